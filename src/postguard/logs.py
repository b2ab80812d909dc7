"""Logging for operators: one setup for the CLI, the service and the proxy helper.

Everything postguard wants a person to know while it runs (start-up, a
registry that cannot be read, an audit write retried or spooled, a
publication retried, a scheduler round that failed) goes through the standard
:mod:`logging` module under the ``postguard`` logger, to standard error. The
level comes from ``--log-level`` or ``POSTGUARD_LOG_LEVEL`` (default
``WARNING`` for commands, ``INFO`` for the service).
"""

from __future__ import annotations

import logging
import os

__all__ = ["LEVELS", "configure", "level_from_env"]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_from_env(default: str) -> str:
    """``POSTGUARD_LOG_LEVEL`` when it names a level, else ``default``."""
    value = os.environ.get("POSTGUARD_LOG_LEVEL", "").strip().upper()
    return value if value in LEVELS else default


def configure(level: str) -> None:
    """Send postguard's log records at ``level`` and above to standard error (idempotent)."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    logger = logging.getLogger("postguard")
    logger.setLevel(name)
    if not any(getattr(h, "_postguard", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._postguard = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
