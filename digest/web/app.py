"""The app factory: services made once, routes, error mapping, headers for token pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.errors import InputError, NotFoundError, QueryError
from digest.pipeline import open_store
from digest.pipeline.links import service_secret
from digest.render.environment import make_environment
from digest.tokens import TokenError
from digest.web import feeds, pages, unsubscribe
from digest.web.feedcache import FeedCache
from digest.web.logs import install_log_redaction
from digest.web.services import Services

log = logging.getLogger(__name__)

TOKEN_PATHS = ("/feeds/private/", "/unsubscribe/", "/manage/", "/confirm/")
# HTML pages load nothing from elsewhere: styles are inline, forms post back here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> FastAPI:
    """The web app for `settings`; opens (and migrates) the database unless given an engine."""
    owned = engine is None
    store = open_store(settings) if engine is None else engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            store.dispose()

    app = FastAPI(
        title=settings.service_name,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.services = Services(
        settings=settings,
        engine=store,
        env=make_environment(),
        secret=service_secret(settings),
        clock=clock,
        feed_cache=FeedCache(),
    )
    app.include_router(feeds.router)
    app.include_router(pages.router)
    app.include_router(unsubscribe.router)
    _map_errors(app)
    app.middleware("http")(_security_headers)
    install_log_redaction()
    return app


def _map_errors(app: FastAPI) -> None:
    """Domain errors become status codes: a bad token or a missing object 404, bad input 400."""

    def handler(status_code: int) -> Callable[[Request, Exception], Response]:
        def respond(request: Request, exc: Exception) -> Response:
            # A bad or revoked token says no more than a page that does not exist.
            message = "not found" if isinstance(exc, TokenError) else str(exc)
            if request.url.path.startswith("/feeds/"):
                return PlainTextResponse(f"{message}\n", status_code=status_code)
            services: Services = request.app.state.services
            return services.page(
                "error.html",
                status_code=status_code,
                status=status_code,
                message=message,
            )

        return respond

    app.add_exception_handler(TokenError, handler(404))
    app.add_exception_handler(NotFoundError, handler(404))
    app.add_exception_handler(QueryError, handler(400))
    app.add_exception_handler(InputError, handler(400))


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.url.path.startswith(TOKEN_PATHS):
        # The URL is a credential: no Referer to other sites, no search engine, no cache.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
        response.headers.setdefault("Cache-Control", "no-store")
    return response
