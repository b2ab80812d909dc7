"""What every command shares: consoles, loading the checker, errors at the edge."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from postguard.checks import Checker
from postguard.errors import (
    AccessDeniedError,
    ConflictError,
    InputError,
    NoActorError,
    NotFoundError,
    PostguardError,
    SigningKeyError,
    ValidationError,
)
from postguard.policy.schema import PolicyPack
from postguard.settings import Settings

__all__ = [
    "EXIT_CONFIG",
    "EXIT_DENIED",
    "EXIT_USAGE",
    "ModelOption",
    "PolicyOption",
    "err",
    "fail",
    "load_checker",
    "load_policy",
    "out",
    "settings_with",
    "translate_errors",
]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> Text:
    """``value`` as text to print exactly: Rich markup is not interpreted, and control characters
    (ANSI escapes, bidirectional overrides) are shown as ``\\x1b`` and the like, never obeyed."""
    return Text(_CONTROL.sub(_visible, str(value)))


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DENIED = 4

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy pack (YAML) to enforce instead of the shipped one. Env: POSTGUARD_POLICY.",
        dir_okay=False,
        show_default=False,
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Trained model file (model.npz) instead of the shipped one.",
        dir_okay=False,
        show_default=False,
    ),
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err.print(Text.assemble(("error:", "bold red"), " ", plain(message)), soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn postguard's errors into a message on stderr and an exit code."""
    try:
        yield
    except (InputError, ValidationError, NotFoundError, ConflictError, SigningKeyError) as exc:
        fail(str(exc), EXIT_USAGE)
    except NoActorError as exc:
        fail(
            f"refused: {exc} Pass --actor SERVICE_NO or set POSTGUARD_ACTOR "
            "(the refusal is recorded in the audit trail).",
            EXIT_DENIED,
        )
    except AccessDeniedError as exc:
        fail(f"refused: {exc} (the refusal is recorded in the audit trail)", EXIT_DENIED)
    except PostguardError as exc:
        fail(str(exc), EXIT_CONFIG)


def settings_with(**overrides: Any) -> Settings:
    """The settings from the environment, with the command's options (those given) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def load_checker(policy: Path | None, model: Path | None) -> Checker:
    """The checker for the given (or configured, or shipped) pack and model."""
    from postguard.factory import build_checker

    return build_checker(settings_with(policy=policy, model=model))


def load_policy(policy: Path | None) -> PolicyPack:
    """The given (or configured, or shipped) policy pack."""
    from postguard.factory import build_pack

    return build_pack(settings_with(policy=policy))
