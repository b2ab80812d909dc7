"""postguard: puts a police department's Social Media Policy into force.

In Python::

    from postguard import check
    report = check("We got our man!", context={"account": "official"})
    report.decision            # "block"
    [f.clause for f in report.findings]

``check`` uses the shipped policy pack and trained model, loaded once per
process; for another pack or model, build a checker from settings with
:func:`postguard.factory.build_checker`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from postguard.checks import Checker, Context, Finding, Post, Report

__all__ = ["Checker", "Context", "Finding", "Post", "Report", "__version__", "check", "default_checker"]

__version__ = "0.1.0"


@cache
def default_checker() -> Checker:
    """The checker for the shipped policy pack and model (built once per process)."""
    from postguard.factory import build_checker
    from postguard.settings import Settings

    return build_checker(Settings.defaults())


def check(text: str, context: Context | dict[str, Any] | None = None) -> Report:
    """Check one post against every content clause of the shipped policy."""
    return default_checker().check(text, context)
