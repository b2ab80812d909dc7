"""The ASGI factory for servers: ``uvicorn --factory postguard.web.asgi:build``.

Settings are read from the environment when a server process builds the app,
never at import.
"""

from __future__ import annotations

from fastapi import FastAPI

from postguard.logs import configure, level_from_env
from postguard.settings import Settings
from postguard.web.app import create_app


def build() -> FastAPI:
    configure(level_from_env("INFO"))
    return create_app(Settings())
