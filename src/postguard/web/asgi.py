"""The ASGI factory for servers: ``uvicorn --factory postguard.web.asgi:build``.

Settings are read from the environment when a server process builds the app,
never at import.
"""

from __future__ import annotations

from fastapi import FastAPI

from postguard.settings import Settings
from postguard.web.app import create_app


def build() -> FastAPI:
    return create_app(Settings())
