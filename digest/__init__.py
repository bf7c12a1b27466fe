"""digest: a self-hosted daily paper digest service."""

__version__ = "0.1.0"
