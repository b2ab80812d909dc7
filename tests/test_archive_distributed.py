"""postguard.archive.distributed: the archive scan on a Dask cluster gives what the local scan gives."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest

from postguard.archive import distributed as dist_module
from postguard.archive.report import write_report
from postguard.archive.scan import FINDINGS, read_state, scan
from postguard.errors import PostguardError
from test_archive_scan import archive_rows, fill, settings_for

pytestmark = pytest.mark.slow  # starts a Dask scheduler and its workers

distributed = pytest.importorskip("distributed")


@pytest.fixture
def cluster() -> Any:
    """Two Dask workers in this process (threads): fast to start, and what a task sees is the same."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0", silence_logs=40
    ) as local:
        yield local


def test_a_dask_scan_gives_the_local_scan_s_results(cluster: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill(url, archive_rows(260))
    settings = settings_for(url)
    local = scan(settings, tmp_path / "local", workers=1, chunk=500)
    seen: list[tuple[int, int]] = []
    spread = scan(
        settings,
        tmp_path / "dask",
        scheduler=cluster.scheduler_address,
        chunk=30,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert spread.engine == "dask" and spread.done and spread.posts == 260
    assert spread.counts == local.counts
    assert (tmp_path / "dask" / FINDINGS).read_bytes() == (tmp_path / "local" / FINDINGS).read_bytes()
    assert seen[0] == (0, 260) and seen[-1] == (260, 260) and len(seen) == 1 + 9  # 9 partitions of 30
    state = read_state(tmp_path / "dask")
    assert state["done"] is True and state["engine"] == "dask" and state["last_id"] == 260
    assert write_report(tmp_path / "dask").html.read_text(encoding="utf-8").count("<article") == len(
        (tmp_path / "dask" / FINDINGS).read_text(encoding="utf-8").splitlines()
    )


def test_a_dask_scan_resumes_and_filters(cluster: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    rows = archive_rows(200)
    fill(url, rows)
    settings = settings_for(url)
    account = rows[1]["account"]
    local = scan(settings, tmp_path / "local", workers=1, account=account)
    calls = {"n": 0}

    def stop_after_two(done: int, total: int) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt

    out = tmp_path / "dask"
    with pytest.raises(KeyboardInterrupt):
        scan(
            settings,
            out,
            scheduler=cluster.scheduler_address,
            account=account,
            chunk=10,
            progress=stop_after_two,
        )
    assert read_state(out)["done"] is False
    resumed = scan(settings, out, scheduler=cluster.scheduler_address, resume=True, chunk=10)
    assert resumed.counts == local.counts and resumed.posts == sum(r["account"] == account for r in rows)
    lines = [json.loads(x) for x in (out / FINDINGS).read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == sorted({x["id"] for x in lines})
    assert (out / FINDINGS).read_bytes() == (tmp_path / "local" / FINDINGS).read_bytes()


def test_no_scheduler_there_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill(url, archive_rows(5))
    with (
        dask_config({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(PostguardError, match="Cannot reach the Dask scheduler"),
    ):
        scan(settings_for(url), tmp_path / "out", scheduler="tcp://127.0.0.1:9")


def test_without_dask_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_dask(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(PostguardError, match=r"postguard\[scale\]"):
        dist_module.require_dask()


def dask_config(values: dict[str, str]) -> Any:
    import dask

    return dask.config.set(values)


def test_a_local_dask_cluster_of_processes(tmp_path: Path) -> None:
    """``scheduler="local"``: a Dask cluster of ``workers`` processes on this machine, started and stopped."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill(url, archive_rows(90))
    local = scan(settings_for(url), tmp_path / "local", workers=1)
    spread = scan(settings_for(url), tmp_path / "dask", scheduler="local", workers=2, chunk=40)
    assert spread.counts == local.counts and spread.posts == 90
    assert (tmp_path / "dask" / FINDINGS).read_bytes() == (tmp_path / "local" / FINDINGS).read_bytes()
