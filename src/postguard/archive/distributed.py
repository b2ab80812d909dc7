"""The archive scan on a Dask cluster (``postguard[scale]``): the same scan, more machines.

:func:`postguard.archive.scan.scan` with a ``scheduler`` splits the archive into
partitions of ``chunk`` posts by id (``after < id <= upto``, the bounds found with
one indexed query each), and sends one task per partition here. Each task
(:func:`postguard.archive.scan.scan_partition`) runs on a Dask worker: it opens
the database URL itself, builds the checker once per worker process (kept in a
module global, keyed by the settings), checks its posts and returns the counts and
the findings lines. The driver takes the results back in id order, merges the
counts and writes the same output folder as a scan on one machine
(``findings.jsonl``, ``state.json``, advanced after each partition, so a stopped
scan resumes, on Dask or not), which :mod:`postguard.archive.report` reads alike.

Only a few partitions per worker thread are in flight at a time, so neither the
driver nor the scheduler ever holds more than that many partitions' results.

Running it on a real cluster
----------------------------

1. Start a scheduler on one machine: ``dask scheduler`` (it listens on
   ``tcp://HOST:8786``).
2. On each worker machine, in an environment with the **same version of
   postguard** installed with its extra (``pip install 'postguard[scale]'``), and
   the same pack and model files at the same paths when ``POSTGUARD_POLICY`` or
   ``POSTGUARD_MODEL`` name them: ``dask worker tcp://HOST:8786 --nthreads 1
   --nworkers auto`` (one single-threaded process per core: the checks are pure
   Python and hold the GIL).
3. The database must be reachable from every worker: PostgreSQL
   (``POSTGUARD_DATABASE_URL=postgresql+psycopg://USER@DBHOST/DB``, with a read-only
   role if you like: the scan only reads), not a SQLite file, unless that file is
   on storage every worker mounts at the same path.
4. Run the scan from any machine that reaches both:
   ``postguard archive scan --out scan-2026 --scheduler tcp://HOST:8786``.

Every worker reports the fingerprint of its pack and model with each result, and
the scan stops with a clear message if one differs from the driver's. With
``scheduler="local"`` a Dask cluster of ``workers`` processes is started on this
machine (useful to try the setup; the plain scan is as fast on one machine).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any, TypeVar

from postguard.errors import PostguardError

__all__ = ["require_dask", "run_partitions"]

T = TypeVar("T")

_MISSING = (
    "Scanning on a Dask cluster needs Dask: install postguard with its 'scale' extra "
    "(pip install 'postguard[scale]'), or scan without a scheduler."
)


def require_dask() -> Any:
    """The ``distributed`` module, or a :class:`PostguardError` naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise PostguardError(_MISSING) from None
    return distributed


def run_partitions(
    task: Callable[..., T],
    partitions: Iterable[tuple[Any, ...]],
    *,
    scheduler: str,
    workers: int | None = None,
    window: int | None = None,
) -> Iterator[T]:
    """``task(*args)`` for each of ``partitions`` on the Dask cluster at ``scheduler`` (an
    address, or ``local`` for a cluster of ``workers`` processes on this machine), yielded in the
    order given. At most ``window`` tasks are in flight (default: two per worker thread). If the
    consumer stops early, the tasks still pending are cancelled and the client closed."""
    distributed = require_dask()
    with ExitStack() as stack:
        if scheduler == "local":
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # the scheduler serves HTTP anyway: any free port
                    silence_logs=40,
                )
            )
            address: Any = cluster
        else:
            address = scheduler
        try:
            client = stack.enter_context(distributed.Client(address, set_as_default=False))
        except (OSError, TimeoutError) as exc:
            raise PostguardError(
                f"Cannot reach the Dask scheduler at {scheduler}: {exc}. Start one ('dask scheduler') "
                "and its workers ('dask worker ADDRESS'), or scan without a scheduler."
            ) from None
        threads = sum(client.nthreads().values()) or 1
        limit = window or max(2, 2 * threads)
        pending: deque[Any] = deque()
        try:
            for args in partitions:
                pending.append(client.submit(task, *args, pure=False))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            if pending:
                client.cancel(list(pending))
