"""Pages: the home page with the feeds, a paper's page, and a health check."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import text

from digest.pipeline import pages
from digest.web.services import ServicesDep

router = APIRouter()


@router.get("/")
def home(services: ServicesDep) -> Response:
    """What the service is, and its public feeds (announced for feed discovery)."""
    return services.page("home.html", view=pages.home_page(services.settings))


@router.get("/papers/{ref}")
def paper(ref: str, services: ServicesDep) -> Response:
    """A paper by row id (as digests link it), identity key or arXiv id."""
    view = pages.paper_page(services.engine, ref, settings=services.settings)
    return services.page("paper.html", view=view)


@router.get("/healthz")
def healthz(services: ServicesDep) -> Response:
    """200 while the database answers."""
    with services.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})
