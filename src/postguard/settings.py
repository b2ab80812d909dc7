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

    @classmethod
    def defaults(cls) -> Settings:
        """The shipped defaults, ignoring the environment (for the plain Python API)."""
        return cls.model_construct()

    policy: Path | None = Field(
        None, description="Policy pack to load instead of the shipped default (a YAML file)."
    )
    model: Path | None = Field(
        None, description="Trained model file to use instead of the shipped one (model.npz)."
    )
    scorer: str = Field(
        "linear",
        description="The learned scorer behind the detectors: linear (the shipped model), none "
        "(patterns and rules only), or package.module:factory for a department's own.",
    )
    database_url: str = Field(
        "sqlite:///postguard.db",
        description="SQLAlchemy URL of the registry and audit database "
        "(sqlite:///FILE, or postgresql+psycopg://USER@HOST/DB).",
    )
    keys_dir: Path = Field(
        Path("keys"),
        description="Folder of the signing keys: commissioner.key/.pub (permissions) and "
        "department.key/.pub (audit checkpoints).",
    )
    secure_cookies: bool = Field(
        True, description="Send the session cookie only over HTTPS (turn off only for plain-HTTP testing)."
    )
    scheduler_interval: float = Field(
        30.0,
        ge=0,
        description="Seconds between the service's rounds of expiring overdue submissions and "
        "publishing scheduled drafts (0 turns the round off; 'postguard publish-due' does it once).",
    )
    actor: str | None = Field(
        None, description="Service number that registry commands act as when --actor is not given."
    )
