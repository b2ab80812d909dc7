"""One detector per clause. Importing this package registers the built-ins."""

from postguard.checks.detectors import (
    confidential,
    decorum,
    guilt,
    identification,
    political,
    private,
    prosecution,
)
from postguard.checks.detectors.base import REGISTRY, Detector, Pattern, PatternDetector, register

__all__ = [
    "REGISTRY",
    "Detector",
    "Pattern",
    "PatternDetector",
    "confidential",
    "decorum",
    "guilt",
    "identification",
    "political",
    "private",
    "prosecution",
    "register",
]
