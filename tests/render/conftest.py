"""Fixtures for the render tests: the one environment."""

from __future__ import annotations

import jinja2
import pytest

from digest.render.environment import make_environment


@pytest.fixture(scope="session")
def env() -> jinja2.Environment:
    """The environment every render test shares (its block cache too)."""
    return make_environment()
