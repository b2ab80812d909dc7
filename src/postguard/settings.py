"""Settings, validated and injected (never read at import).

``Settings()`` reads ``POSTGUARD_*`` environment variables when it is built,
which happens at the edge (the CLI's start, ``create_app``); the core takes
the values it needs as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    watch_interval: float = Field(
        300.0,
        ge=0,
        description="Seconds between the service's rounds of the watch, which reads what the official "
        "accounts published (0 turns it off; 'postguard watch run' does a round, for cron).",
    )
    watch_lookback_days: float = Field(
        14.0,
        gt=0,
        le=3650,
        description="How far back each round of the watch reads an account's posts: edits and deletions "
        "of posts older than this are not noticed.",
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

    # The watch's alerts (issue 14): always shown in the web app; also sent by e-mail and/or webhook.
    smtp_host: str | None = Field(
        None, description="SMTP server that sends the watch's alerts by e-mail (unset: no e-mail)."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="The SMTP server's port.")
    smtp_starttls: bool = Field(
        False, description="Upgrade the SMTP connection with STARTTLS (the server's certificate is verified)."
    )
    smtp_username: str | None = Field(None, description="SMTP login name (unset: no login).")
    smtp_password: SecretStr | None = Field(None, description="SMTP login password.")
    alert_email_from: str | None = Field(
        None, description="The From address of alert e-mails (default: postguard@ the SMTP host)."
    )
    alert_email_to: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Who gets alert e-mails: addresses separated by commas (the reviewers' and the "
        "Commissioner's mailboxes).",
    )
    alert_webhook_url: str | None = Field(
        None,
        description="URL that each alert is POSTed to as JSON, signed in X-Postguard-Signature "
        "(sha256=HMAC-SHA256 of 'TIMESTAMP.BODY', TIMESTAMP in X-Postguard-Timestamp).",
    )
    alert_webhook_secret: SecretStr | None = Field(
        None,
        validate_default=True,  # so that a URL given without any secret is refused too
        description="The secret that signs alert webhooks (required with POSTGUARD_ALERT_WEBHOOK_URL).",
    )
    public_url: str | None = Field(
        None,
        description="The web app's address as people reach it (https://postguard.example): alert "
        "e-mails and webhooks link to the alert's page under it.",
    )

    @field_validator("alert_email_to", mode="before")
    @classmethod
    def _addresses(cls, value: object) -> object:
        """``a@x, b@y`` (as the environment gives it) or a list: the addresses, blanks dropped."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("alert_webhook_secret", mode="after")
    @classmethod
    def _webhook_signed(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """An alert webhook is only sent signed: a URL without its secret stops the start (checked
        on the secret's field, so the error never shows the other settings' values)."""
        if info.data.get("alert_webhook_url") and (value is None or not value.get_secret_value()):
            raise ValueError(
                "POSTGUARD_ALERT_WEBHOOK_URL is set but POSTGUARD_ALERT_WEBHOOK_SECRET is not: alert "
                "webhooks are always signed, so give the secret the receiver checks the signature with "
                "(or unset the URL)."
            )
        return value

    def department_secret(self) -> str | None:
        """The department key's passphrase from the environment or the credentials file, if given."""
        if self.department_passphrase is not None:
            return self.department_passphrase.get_secret_value()
        if self.department_passphrase_file is not None:
            return self.department_passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        return None
