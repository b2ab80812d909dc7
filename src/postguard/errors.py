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
    │   ├── EncodingError      the bytes are not valid UTF-8
    │   └── CheckTimeoutError  the post took longer to check than the pack allows
    ├── ModelError             the trained model is missing or unreadable
    ├── CorpusError            a training-corpus line is malformed
    ├── RegistryError          a registry request that cannot be carried out
    │   ├── NotFoundError      an unknown member, device, account, authorisation or permission
    │   ├── ConflictError      the record exists already, or the change contradicts it
    │   ├── ValidationError    a value that does not parse or makes no sense (until before from)
    │   └── DatabaseError      the database cannot be reached or is not migrated
    ├── AccessDeniedError      the actor's roles do not allow the action (the refusal is audited)
    │   ├── NoActorError       the action names no actor at all
    │   └── TooManyAttemptsError  too many failed sign-ins or passphrases: wait (HTTP 429)
    ├── SigningKeyError        a signing key is missing, unreadable or its passphrase is wrong
    │   └── WrongPassphraseError  the passphrase does not unlock the key (throttled and audited)
    └── AuditError             the audit trail cannot be appended to or read
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "AuditError",
    "CheckTimeoutError",
    "ConflictError",
    "CorpusError",
    "DatabaseError",
    "EmptyTextError",
    "EncodingError",
    "InputError",
    "ModelError",
    "NoActorError",
    "NotFoundError",
    "PolicyError",
    "PostguardError",
    "RegistryError",
    "SigningKeyError",
    "TextTooLongError",
    "TooManyAttemptsError",
    "ValidationError",
    "WrongPassphraseError",
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


class CheckTimeoutError(InputError):
    """The post took longer to check than the pack's limit; it is not allowed, nor blocked."""


class ModelError(PostguardError):
    """The trained model is missing, unreadable or does not match the pack."""


class CorpusError(PostguardError):
    """A training-corpus line is malformed; the message names file and line."""


class RegistryError(PostguardError):
    """A registry request that cannot be carried out; nothing was written.

    ``field``, where given, names the form field or API property at fault (``addresses``,
    ``service_number``), so a page can put the message beside it.
    """

    def __init__(self, message: str = "", *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(RegistryError):
    """No member, device, account, authorisation or permission has that id."""


class ConflictError(RegistryError):
    """The record exists already, or the change contradicts its state."""


class ValidationError(RegistryError):
    """A value does not parse or makes no sense (a date, an until before from)."""


class DatabaseError(RegistryError):
    """The database cannot be reached, or is not migrated to this version."""


class AccessDeniedError(PostguardError):
    """The actor may not do this; the refusal itself is written to the audit trail."""


class NoActorError(AccessDeniedError):
    """The action names no actor: whoever asks must say which member is acting."""


class TooManyAttemptsError(AccessDeniedError):
    """Too many failed attempts (sign-ins from one address, a member's key passphrases): wait."""


class SigningKeyError(PostguardError):
    """A signing key is missing or unreadable, or its passphrase is wrong."""


class WrongPassphraseError(SigningKeyError):
    """The passphrase given does not unlock the key."""


class AuditError(PostguardError):
    """The audit trail cannot be appended to or read."""
