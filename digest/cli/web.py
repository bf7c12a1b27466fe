"""`digest web`: serve the web app (feeds, paper pages, unsubscribe) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from digest.cli.app import Context, app


@app.command()
def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app until interrupted."""
    import uvicorn

    from digest.web import create_app
    from digest.web.logs import install_log_redaction

    context: Context = ctx.obj
    application = create_app(context.settings, engine=context.engine())
    config = uvicorn.Config(
        application, host=host, port=port, log_level=context.settings.log_level.lower()
    )
    # uvicorn configures its loggers when the Config is made; the filter goes on after that.
    install_log_redaction()
    uvicorn.Server(config).run()
