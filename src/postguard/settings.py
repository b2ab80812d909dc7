"""Settings, validated and injected (never read at import).

``Settings()`` reads ``POSTGUARD_*`` environment variables when it is built,
which happens at the edge (the CLI's start, ``create_app``); the core takes
the values it needs as arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
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
    checkpoint_interval: float = Field(
        60.0,
        ge=0,
        description="Seconds between the service's signed audit checkpoints, made when entries were "
        "added (0 turns them off). Needs the department key's passphrase.",
    )
    department_passphrase: SecretStr | None = Field(
        None, description="Passphrase of the department key, for the service's automatic checkpoints."
    )
    department_passphrase_file: Path | None = Field(
        None,
        description="A file holding the department key's passphrase (a credentials file, such as "
        "systemd's $CREDENTIALS_DIRECTORY/department), instead of POSTGUARD_DEPARTMENT_PASSPHRASE.",
    )
    audit_witness: Path | None = Field(
        None,
        description="Witness file: every signed checkpoint is appended to it, one JSON line each. Keep "
        "it off the database's disk, or append-only (chattr +a); audit verify --witness reads it.",
    )
    audit_witness_syslog: str | None = Field(
        None, description="Also send each signed checkpoint to syslog: HOST:PORT (UDP) or a socket path."
    )
    audit_spool: Path = Field(
        Path("postguard-audit-spool.jsonl"),
        description="Where access decisions wait when the audit trail cannot be written (written to "
        "the trail when it can be again).",
    )

    media_root: Path = Field(
        Path("postguard-media"),
        description="Folder of uploaded photos and videos (POST /api/v1/media, the compose page), kept "
        "by SHA-256: an attachment given as sha256:HEX is read from here (needs postguard[media]).",
    )

    def department_secret(self) -> str | None:
        """The department key's passphrase from the environment or the credentials file, if given."""
        if self.department_passphrase is not None:
            return self.department_passphrase.get_secret_value()
        if self.department_passphrase_file is not None:
            return self.department_passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        return None
