"""The one place where the policy pack, the scorer and the checker are put together.

Every entry point (the CLI, the service, the scheduler, the demo, the Python
API) builds what it checks with through here, from its :class:`Settings`, so
that a department's own pack (``POSTGUARD_POLICY``), model
(``POSTGUARD_MODEL``) or scorer (``POSTGUARD_SCORER``) reaches all of them
alike. Packs and scorers are loaded once per process for each source.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from postguard.policy.loader import load_pack
from postguard.policy.schema import PolicyPack
from postguard.settings import Settings

if TYPE_CHECKING:  # the checks (and NumPy) load only when a checker is built
    from postguard.audit.witness import Witness
    from postguard.checks.engine import Checker, PermissionResolver
    from postguard.checks.scoring import Scorer
    from postguard.registry.service import Registry
    from postguard.watch.run import Watch

__all__ = ["build_checker", "build_pack", "build_scorer", "build_watch", "build_witness"]


@cache
def _pack(path: Path | None) -> PolicyPack:
    return load_pack(path)


@cache
def _scorer(name: str, path: Path | None) -> Scorer | None:
    from postguard.checks.scoring import load_scorer

    return load_scorer(name, path)


def build_pack(settings: Settings) -> PolicyPack:
    """The policy pack in force: ``settings.policy``, or the shipped one."""
    return _pack(settings.policy.resolve() if settings.policy else None)


def build_scorer(settings: Settings) -> Scorer | None:
    """The learned scorer in force (``None`` when configured as ``none``)."""
    return _scorer(settings.scorer, settings.model.resolve() if settings.model else None)


def build_checker(
    settings: Settings, *, permissions: PermissionResolver | None = None, files: bool = True
) -> Checker:
    """The checker for the configured pack and scorer; ``permissions`` judges claimed permissions.

    It looks at attached photos and videos (:mod:`postguard.media.inspect`): uploads named
    ``sha256:HEX`` in ``settings.media_root``, and, with ``files`` (the CLI, not the service),
    an attachment that names a file on this machine. Other names are judged by the name.
    """
    from postguard.checks.engine import Checker
    from postguard.media.inspect import load_inspector

    pack = build_pack(settings)
    media = load_inspector(pack, None, store=settings.media_root, files=files)
    return Checker(pack, build_scorer(settings), permissions, media)


def build_watch(settings: Settings, registry: Registry, checker: Checker) -> Watch:
    """The watch over the official accounts, delivering its alerts as the settings say."""
    from postguard.watch.deliver import AlertDelivery
    from postguard.watch.run import Watch

    return Watch(
        registry,
        checker,
        keys_dir=settings.keys_dir,
        media_root=settings.media_root,
        lookback_days=settings.watch_lookback_days,
        deliver=AlertDelivery.from_settings(settings).deliver,
    )


def build_witness(settings: Settings) -> Witness | None:
    """The audit witness the settings name (``POSTGUARD_AUDIT_WITNESS``, ``…_SYSLOG``), or ``None``."""
    if settings.audit_witness is None and not settings.audit_witness_syslog:
        return None
    from postguard.audit.witness import Witness
    from postguard.keys import load_public_if_present

    return Witness(
        settings.audit_witness,
        syslog=settings.audit_witness_syslog,
        trusted=load_public_if_present(settings.keys_dir, "department"),
    )
