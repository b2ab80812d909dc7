"""The service: a FastAPI application under /api/v1 (create_app(settings) wires it)."""

from postguard.web.app import create_app

__all__ = ["create_app"]
