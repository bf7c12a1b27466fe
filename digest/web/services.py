"""What every handler needs, made once by the factory and handed out as a dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.web.feedcache import FeedCache


@dataclass(frozen=True, slots=True)
class Services:
    """The app's settings, database, templates, signing secret, clock and built feeds."""

    settings: Settings
    engine: Engine
    env: jinja2.Environment
    secret: str
    clock: Callable[[], datetime]
    feed_cache: FeedCache

    def page(self, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        """An HTML page rendered with the shared environment (autoescaped); every page gets
        the service's name and URL for its title and footer."""
        html = self.env.get_template(f"web/{template}").render(
            service_name=self.settings.service_name, base_url=self.settings.base_url, **context
        )
        return HTMLResponse(html, status_code=status_code)


def get_services(request: Request) -> Services:
    """The services of the app serving this request."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
