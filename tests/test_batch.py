"""The batch contract (contract.md) and the CLI's behaviour on good and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postguard.cli.app import app

runner = CliRunner()


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "postguard", *args], input=stdin, capture_output=True, check=False, timeout=120
    )


def test_batch_contract_with_good_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "ok-1", "text": "We got our man! He was arrested last night."}).encode(),
        json.dumps(
            {
                "id": "ok-2",
                "text": "Road closed on Main Street.",
                "context": {
                    "account": "official",
                    "capacity": "official",
                    "attachments": [],
                    "permissions": [],
                },
            }
        ).encode(),
        b'{"id": "bad-json", "text": ',
        json.dumps({"id": "no-text"}).encode(),
        json.dumps({"id": "empty", "text": "   "}).encode(),
        json.dumps({"id": "huge", "text": "x" * 70000}).encode(),
        b'{"id": "latin1", "text": "caf\xe9"}',
        json.dumps({"id": "bad-ctx", "text": "hi", "context": {"account": 3}}).encode(),
        b"[1, 2, 3]",
        json.dumps({"id": "ok-3", "text": "Vote for Hendricks on Tuesday!"}).encode(),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n\n")
    result = _run("check", "--jsonl", str(path))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [o.get("id") for o in out] == [
        "ok-1",
        "ok-2",
        "bad-json",
        "no-text",
        "empty",
        "huge",
        "latin1",
        "bad-ctx",
        None,
        "ok-3",
    ]
    assert out[0]["decision"] == "block"
    finding = out[0]["findings"][0]
    assert set(finding) >= {"clause", "span", "evidence", "score", "explanation"}
    assert out[1] == {"id": "ok-2", "decision": "allow", "findings": []}
    assert "not valid JSON" in out[2]["error"]
    assert "no 'text'" in out[3]["error"]
    assert "empty" in out[4]["error"]
    assert "64 KiB" in out[5]["error"]
    assert "UTF-8" in out[6]["error"]
    assert "account" in out[7]["error"]
    assert "object" in out[8]["error"]
    assert out[9]["findings"][0]["clause"] == "A.iv.political"
    assert b"7 line(s) could not be read" in result.stderr


def test_batch_reads_stdin() -> None:
    result = _run("check", "--jsonl", "-", stdin=b'{"id": "s", "text": "Speeding kills. Slow down."}\n')
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"id": "s", "decision": "allow", "findings": []}


def test_batch_on_missing_file_is_a_clear_error() -> None:
    result = _run("check", "--jsonl", "/nonexistent/posts.jsonl")
    assert result.returncode == 2 and b"no such file" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["check", "Road closed on Main Street."], 0, "ALLOW"),
        (["check", "We got our man!"], 1, "A.iii.guilt"),
        (["check", "   "], 2, "no text"),
        (["check"], 2, "nothing to check"),
        (["check", "hi", "--account", "secret"], 2, "account"),
        (["check", "--json", "We got our man!"], 1, '"decision": "block"'),
        (["check", "hi", "--policy", "/nonexistent.yaml"], 3, "file not found"),
    ],
)
def test_check_exit_codes(args: list[str], code: int, needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert needle in result.output


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import typer.main

    click_group = typer.main.get_command(app) if group is None else group
    found = [prefix]
    for name, command in getattr(click_group, "commands", {}).items():
        found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("command", _commands(None))
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    import typer.main

    cmd = typer.main.get_command(app)
    for name in command:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"'postguard {' '.join(command)}' has no help text"


def test_policy_show_and_eval(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "show"])
    assert result.exit_code == 0 and "Commissioner of Police" in result.output
    assert "A.iii.prosecution" in result.output
    labelled = tmp_path / "l.jsonl"
    labelled.write_text(
        json.dumps({"id": "a", "text": "We got our man!", "labels": ["A.iii.guilt"]})
        + "\n"
        + json.dumps({"id": "b", "text": "Road closed.", "labels": []})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["eval", str(labelled), "--json"])
    assert result.exit_code == 0
    figures = json.loads(result.output)
    assert figures["clauses"]["A.iii.guilt"]["recall"] == 1.0
    assert figures["clean_false_positive_rate"] == 0.0
    assert figures["patterns"]["guilt.got-our-man"] == {
        "clause": "A.iii.guilt",
        "fired": 1,
        "precision": 1.0,
        "recall": 1.0,
    }


def test_eval_tables_keep_their_figures_whole_in_an_80_column_terminal(tmp_path: Path) -> None:
    labelled = tmp_path / "l.jsonl"
    labelled.write_text(
        json.dumps({"id": "a", "text": "We got our man!", "labels": ["A.iii.guilt"]}) + "\n"
        + json.dumps({"id": "b", "text": "Police arrested a man after he robbed a shop.", "labels": []}) + "\n"
        + json.dumps({"id": "c", "text": "Jordan Price (15) was arrested in Hove.", "labels": ["A.iii.confidential"]})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    result = runner.invoke(
        app, ["eval", str(labelled)], env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    )
    assert result.exit_code == 0, result.output
    patterns = result.stdout[result.stdout.index("patterns:") :]
    assert "…" not in patterns  # no figure or heading cut short
    assert "precision" in patterns and "1.000" in patterns and "0.000" in patterns
    assert "confidential.juvenile" in patterns  # a long pattern id folds onto a second line


def test_eval_reports_confusion_errors_and_sources_and_reads_annotations_by_id(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "force-a.jsonl").write_text(
        json.dumps({"id": "a-1", "text": "We got our man! He was arrested tonight."}) + "\n"
        + json.dumps({"id": "a-2", "text": "Road closed on Main Street."}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    (posts / "force-b.jsonl").write_text(
        json.dumps({"id": "b-1", "text": "Vote for Smith on Tuesday!"}) + "\n", encoding="utf-8"
    )
    annotations = tmp_path / "annotations.jsonl"
    annotations.write_text(
        json.dumps({"id": "a-1", "labels": ["A.i"], "spans": {"A.i": [[0, 14]]}, "split": "test"}) + "\n"
        + json.dumps({"id": "a-2", "labels": [], "spans": {}, "split": "test"}) + "\n"
        + json.dumps({"id": "b-1", "labels": [], "spans": {}, "split": "test"}) + "\n"
        + json.dumps({"id": "x-9", "labels": [], "spans": {}, "split": "train"}) + "\n"
        + "not json\n",
        encoding="utf-8",
    )  # fmt: skip
    result = runner.invoke(
        app,
        ["eval", str(annotations), "--real-posts", str(posts), "--split", "test", "--json", "--by-source"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["posts"] == 3 and figures["unreadable"] == 1
    assert figures["confusion"]["A.i"] == {"A.iii.guilt": 1}  # labelled A.i, found guilt instead
    assert {w["clause"] for w in figures["false_positives"]} == {"A.iii.guilt", "A.iv.political"}
    assert figures["missed"][0] == {
        "id": "a-1", "clause": "A.i", "score": 0.0, "evidence": "We got our man", "how": "nothing found",
        "source": "real:force-a",
    }  # fmt: skip
    assert set(figures["by_source"]) == {"real:force-a", "real:force-b"}
    assert figures["by_source"]["real:force-b"]["clean_false_positive_rate"] == 1.0
    table = runner.invoke(app, ["eval", str(annotations), "--real-posts", str(posts), "--by-source"])
    assert table.exit_code == 0 and "Worst false positives" in table.stdout and "real:force-b" in table.stdout
    missing = runner.invoke(app, ["eval", str(annotations)])
    assert missing.exit_code == 2 and "no labelled posts" in missing.output


def test_parallel_batch_gives_the_same_lines_in_order(tmp_path: Path) -> None:
    from postguard.checks.batch import BatchStats, check_lines
    from postguard.checks.engine import Checker
    from postguard.checks.model.inference import default_model
    from postguard.policy import default_pack

    checker = Checker(default_pack(), default_model())
    texts = [
        "We got our man! He was arrested last night.",
        "Road closed on Main Street.",
        "DM me for a discount at my cousin's garage.",
        "",
    ]
    lines = [json.dumps({"id": f"p-{i}", "text": texts[i % 4]}).encode() + b"\n" for i in range(200)]
    lines.insert(7, b"not json\n")
    serial, parallel = BatchStats(), BatchStats()
    one = list(check_lines(checker, lines, serial, workers=1))
    two = list(check_lines(checker, lines, parallel, workers=2))
    assert one == two
    assert serial == parallel
    assert serial.lines == 201 and serial.errors == 51
