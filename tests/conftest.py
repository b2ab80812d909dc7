"""Shared fixtures: the shipped checker, built once per test session."""

from __future__ import annotations

import pytest

from postguard import default_checker
from postguard.checks import Checker


@pytest.fixture(scope="session")
def checker() -> Checker:
    return default_checker()
