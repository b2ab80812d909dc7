"""The README's examples are what the commands print (as datasette checks its docs).

Every fenced ```console block in README.md holds ``$ postguard ...`` lines, each followed by the
output it must print. Each command is run through the CLI in a terminal 200 columns wide, and
its output compared line by line, trailing spaces stripped; a line ``...`` in the expected
output stands for any number of lines. And every ``postguard <command>`` the README names in
its code exists: its ``--help`` works.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from postguard.cli.app import app

README = Path(__file__).resolve().parent.parent / "README.md"
WIDTH = "200"


@dataclass(frozen=True)
class Example:
    line: int  # where the command is in README.md
    command: str
    expected: tuple[str, ...]


def console_examples(text: str) -> list[Example]:
    """Every ``$ ...`` command of the ```console blocks, with the output that follows it."""
    examples: list[Example] = []
    lines = text.splitlines()
    inside, command, start = False, "", 0
    expected: list[str] = []

    def close() -> None:
        if command:
            examples.append(Example(start, command, tuple(expected)))

    for number, line in enumerate(lines, 1):
        if not inside:
            inside = line.strip() == "```console"
            continue
        if line.strip() == "```":
            close()
            inside, command, expected = False, "", []
        elif line.startswith("$ "):
            close()
            command, start, expected = line[2:].strip(), number, []
        elif command:
            expected.append(line)
    return examples


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected``, where a line ``...`` stands for any number of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and matches(rest, actual[1:])


def normalise(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


EXAMPLES = console_examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_checked_examples() -> None:
    commands = [e.command for e in EXAMPLES]
    assert commands and commands[0].startswith("postguard check ")  # the first example is checked
    assert all(c.startswith("postguard ") for c in commands)
    assert all(e.expected for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{e.line}" for e in EXAMPLES])
def test_a_readme_example_prints_what_the_readme_shows(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no database or file of the checkout is read or written
    for name in ("POSTGUARD_DATABASE_URL", "POSTGUARD_POLICY", "POSTGUARD_SCORER", "POSTGUARD_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    args = shlex.split(example.command)[1:]
    result = CliRunner().invoke(app, args, env={"COLUMNS": WIDTH, "NO_COLOR": "1", "TERM": "dumb"})
    actual = normalise(result.output)
    expected = tuple(line.rstrip() for line in example.expected)
    assert matches(expected, actual), (
        f"README.md line {example.line}: `{example.command}` now prints:\n" + "\n".join(actual)
    )


# Every command the README names exists ------------------------------------------------------------

_CODE = re.compile(r"```(\w*)\n(.*?)```", re.S)
_INLINE = re.compile(r"`([^`]+)`")  # a span may wrap onto the next line
_COMMAND = re.compile(r"(?<![\w./-])postguard\s+([a-z][a-z-]*)(?![\w=-])(?:\s+([a-z][a-z-]*))?")


def named_commands(text: str) -> set[tuple[str, ...]]:
    """``(group, command)`` or ``(command,)`` for every ``postguard ...`` in the README's code."""
    code: list[str] = []
    for language, body in _CODE.findall(text):
        if language != "python":
            code.append(body)
    prose = _CODE.sub("", text)
    code += [line for line in prose.splitlines() if line.startswith("    ")]  # indented blocks
    code += _INLINE.findall(prose)
    tree = typer.main.get_command(app)
    commands = getattr(tree, "commands", {})  # a group (typer ships its own click)
    assert "check" in commands
    found: set[tuple[str, ...]] = set()
    for snippet in code:
        for first, second in _COMMAND.findall(" ".join(snippet.split("\\\n"))):
            group = hasattr(commands.get(first), "commands")
            if group and second:
                found.add((first, second))
            else:
                found.add((first,))
    return found


NAMED = sorted(named_commands(README.read_text(encoding="utf-8")))


def test_the_readme_names_commands() -> None:
    assert ("check",) in NAMED and ("audit", "show") in NAMED and ("sites", "lookup") in NAMED


@pytest.mark.parametrize("command", NAMED, ids=[" ".join(c) for c in NAMED])
def test_every_command_the_readme_names_exists(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": WIDTH})
    assert result.exit_code == 0, f"README.md names `postguard {' '.join(command)}`: {result.output}"
    assert "Usage: postguard " + " ".join(command) in " ".join(result.output.split())


def test_the_matcher_itself() -> None:
    assert matches(("a", "...", "d"), ["a", "b", "c", "d"])
    assert matches(("a", "...", "d"), ["a", "d"])
    assert not matches(("a", "b"), ["a", "b", "c"])
    assert not matches(("a", "...", "d"), ["a", "b"])
    block = "x\n```console\n$ postguard one\nout 1\n$ postguard two\nout 2\n```\n$ not me\n"
    assert console_examples(block) == [
        Example(3, "postguard one", ("out 1",)),
        Example(5, "postguard two", ("out 2",)),
    ]


def test_the_readme_labelled_file_example_is_one_eval_reads(tmp_path: Path) -> None:
    lines = [
        line.strip()
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith('    {"id": ') and '"labels"' in line
    ]
    assert len(lines) >= 2
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["eval", str(labelled), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["posts"] == len(lines)
