"""Settings, validated and injected (never read at import).

``Settings()`` reads ``POSTGUARD_*`` environment variables when it is built,
which happens at the edge (the CLI's start, ``create_app``); the core takes
the values it needs as arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTGUARD_", extra="ignore")

    policy: Path | None = Field(
        None, description="Policy pack to load instead of the shipped default (a YAML file)."
    )
    model: Path | None = Field(
        None, description="Trained model file to use instead of the shipped one (model.npz)."
    )
