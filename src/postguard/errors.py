"""The one exception tree of postguard.

Everything the core raises on purpose derives from :class:`PostguardError`.
The CLI and the web app translate these at the edge (exit codes, problem
details); nothing in between catches and rewraps them.

::

    PostguardError
    ├── PolicyError            a policy pack cannot be read or is invalid
    ├── InputError             a post or request the checker cannot take
    │   ├── EmptyTextError     the text is empty or only whitespace
    │   ├── TextTooLongError   the text is over the contract's 64 KiB
    │   └── EncodingError      the bytes are not valid UTF-8
    ├── ModelError             the trained model is missing or unreadable
    └── CorpusError            a training-corpus line is malformed
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "EmptyTextError",
    "EncodingError",
    "InputError",
    "ModelError",
    "PolicyError",
    "PostguardError",
    "TextTooLongError",
]


class PostguardError(Exception):
    """Base of every error postguard raises on purpose."""


class PolicyError(PostguardError):
    """A policy pack cannot be read or does not validate.

    The message names the file, the place in it and the field.
    """


class InputError(PostguardError):
    """A post or request that the checker cannot take as given."""


class EmptyTextError(InputError):
    """The text is empty or contains only whitespace."""


class TextTooLongError(InputError):
    """The text is longer than the contract allows (64 KiB of UTF-8)."""


class EncodingError(InputError):
    """The input bytes are not valid UTF-8."""


class ModelError(PostguardError):
    """The trained model is missing, unreadable or does not match the pack."""


class CorpusError(PostguardError):
    """A training-corpus line is malformed; the message names file and line."""
