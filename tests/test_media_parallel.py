"""Independent media detectors run beside the others: the same sightings, in the same order, and a
forked worker (batch checks) gets threads of its own."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from postguard.media.inspect import _beside, _detect_all
from postguard.media.types import Frame, Sighting


@dataclass
class Probe:
    name: str
    independent: bool = False
    threads: list[str] = field(default_factory=list)

    def detect(self, frame: Frame) -> list[Sighting]:
        self.threads.append(threading.current_thread().name)
        return [Sighting("text", f"{self.name} saw it", 0.9, (0, 0, 1, 1), frame.at, {})]


def _frame() -> Frame:
    return Frame(np.zeros((8, 8, 3), dtype=np.uint8), 1.0, 0.0)


def test_sightings_keep_the_detectors_order_and_the_independent_one_runs_aside() -> None:
    detectors = [Probe("ocr"), Probe("faces", independent=True), Probe("plates")]
    seen = _detect_all(detectors, _frame())  # type: ignore[arg-type]
    assert [name for name, _ in seen] == ["ocr", "faces", "plates"]
    assert detectors[1].threads[0].startswith("pg-media")
    assert detectors[0].threads == [threading.current_thread().name] == detectors[2].threads


def test_an_error_in_the_independent_detector_reaches_the_caller() -> None:
    class Broken(Probe):
        def detect(self, frame: Frame) -> list[Sighting]:
            raise ValueError("model failed")

    with pytest.raises(ValueError, match="model failed"):
        _detect_all([Probe("ocr"), Broken("faces", independent=True)], _frame())  # type: ignore[list-item]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_worker_gets_its_own_threads() -> None:
    parent = _beside()
    assert parent.submit(lambda: 1).result(timeout=10) == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's threads are gone; a pool of its own answers
        try:
            pool = _beside()
            ok = pool is not parent and pool.submit(lambda: 2).result(timeout=10) == 2
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 2)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"ok"
