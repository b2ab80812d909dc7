"""The seam between the detectors and a learned model: the :class:`Scorer` protocol.

A detector asks a scorer one thing: for each sentence of a post, read within
the whole post, a calibrated score per clause. Whatever gives that (the
shipped linear model, an ONNX encoder, a cascade of both) plugs in here,
through :func:`load_scorer`, without touching a detector.

Scorers are chosen by name (``Settings.scorer``, ``POSTGUARD_SCORER``):

- ``linear``: the shipped TF-IDF model with its two heads
  (:mod:`postguard.checks.model.inference`), read from ``path`` or the package;
- ``none``: no learned model; the detectors use their patterns and rules only;
- ``package.module:factory``: any callable taking the model path (or ``None``)
  and returning a :class:`Scorer`, for a department's own model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from postguard.errors import ModelError

__all__ = ["BUILTIN_SCORERS", "Scorer", "load_scorer"]


@runtime_checkable
class Scorer(Protocol):
    """Calibrated per-sentence clause scores, each sentence read in its post."""

    @property
    def name(self) -> str:
        """Short name for decision traces, e.g. ``linear``."""
        ...

    @property
    def clauses(self) -> tuple[str, ...]:
        """The clause ids of the score columns, in order."""
        ...

    @property
    def thresholds(self) -> Mapping[str, float]:
        """Per clause, the score at which a sentence is reported (the pack may override it)."""
        ...

    def scores(self, text: str, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """A row per sentence, a column per clause: each score in [0, 1]."""
        ...


ScorerFactory = Callable[[Path | None], Scorer | None]


def _linear(path: Path | None) -> Scorer:
    from postguard.checks.model.inference import SentenceModel, default_model

    return SentenceModel.load(path) if path else default_model()


def _none(_path: Path | None) -> None:
    return None


#: The scorers postguard ships, by name.
BUILTIN_SCORERS: dict[str, ScorerFactory] = {"linear": _linear, "none": _none}


def load_scorer(name: str = "linear", path: Path | None = None) -> Scorer | None:
    """The scorer called ``name``, loaded from ``path`` (its default when ``None``).

    Raises :class:`~postguard.errors.ModelError` naming what is wrong.
    """
    factory = BUILTIN_SCORERS.get(name)
    if factory is None:
        factory = _imported(name)
    scorer = factory(path)
    if scorer is not None and not isinstance(scorer, Scorer):
        raise ModelError(f"The scorer '{name}' does not give clauses, thresholds and scores().")
    return scorer


def _imported(name: str) -> ScorerFactory:
    module_name, _, attribute = name.partition(":")
    if not attribute:
        known = ", ".join(sorted(BUILTIN_SCORERS))
        raise ModelError(f"Unknown scorer '{name}': use one of {known}, or 'package.module:factory'.")
    try:
        module = importlib.import_module(module_name)
        factory: ScorerFactory = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"The scorer '{name}' cannot be loaded: {exc}.") from None
    return factory
