"""The web app on the test's in-memory store, with the fixed clock, and an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.web import create_app
from tests.conftest import NOW


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio (the loop uvicorn uses)."""
    return "asyncio"


@pytest.fixture
def app(engine: Engine, settings: Settings) -> FastAPI:
    """The app over the test's store; its clock reads NOW."""
    return create_app(settings, engine=engine, clock=lambda: NOW)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the app in-process (no socket)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
