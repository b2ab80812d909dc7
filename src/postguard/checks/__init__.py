"""The checks: pure functions of a post and a policy pack (no database, web or CLI)."""

from postguard.checks.engine import Checker, PermissionResolver
from postguard.checks.types import Context, Finding, Post, Report

__all__ = ["Checker", "Context", "Finding", "PermissionResolver", "Post", "Report"]
