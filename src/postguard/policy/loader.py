"""Load and validate policy packs.

``load_pack(path)`` reads a YAML pack; a pack may start with
``extends: default`` (or a path) and then override only what differs:
mappings merge key by key and ``clauses`` merge by ``id``.
Every failure raises :class:`~postguard.errors.PolicyError` naming the file,
the place (with its line) and the field.
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from postguard.errors import PolicyError
from postguard.policy.schema import PolicyPack

__all__ = ["DEFAULT_PACK", "default_pack", "load_pack"]

DEFAULT_PACK = "default"


def _default_path() -> Path:
    return Path(str(resources.files("postguard.policy") / "packs" / "default.yaml"))


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"Policy pack '{path}': file not found.") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"Policy pack '{path}': not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise PolicyError(f"Policy pack '{path}': cannot be read ({exc.strerror}).") from None
    try:
        data = yaml.safe_load(raw)
        node = yaml.compose(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"Policy pack '{path}'{where}: not valid YAML ({problem}).") from None
    if not isinstance(data, dict):
        raise PolicyError(f"Policy pack '{path}': the top level must be a mapping of fields.")
    return data, node


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if (
        isinstance(base, list)
        and isinstance(over, list)
        and all(isinstance(x, dict) and "id" in x for x in [*base, *over])
    ):
        by_id = {x["id"]: x for x in base}
        order = [x["id"] for x in base]
        for item in over:
            if item["id"] in by_id:
                by_id[item["id"]] = _merge(by_id[item["id"]], item)
            else:
                order.append(item["id"])
                by_id[item["id"]] = item
        return [by_id[i] for i in order]
    return over


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if key.value == part:
                    line, found = key.start_mark.line + 1, value
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe_loc(data: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    cursor: Any = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(cursor, list) and part < len(cursor):
                cursor = cursor[part]
                if isinstance(cursor, dict) and "id" in cursor:
                    label = f"[{part}] (id {cursor['id']!r})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + part)
            cursor = cursor.get(part) if isinstance(cursor, dict) else None
    return "".join(parts) or "top level"


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: Any = PolicyPack
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {}) if isinstance(model, type) else {}
        field = fields.get(part)
        if field is None:
            return model if isinstance(model, type) and issubclass(model, BaseModel) else None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = candidates[0] if candidates else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _format_errors(source: str, data: dict[str, Any], node: yaml.Node | None, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = _line_of(node, loc)
        where = _describe_loc(data, loc[:-1] if err["type"] == "extra_forbidden" else loc)
        at = f" (line {line})" if line else ""
        if err["type"] == "extra_forbidden":
            field = str(loc[-1])
            parent = _model_at(loc[:-1])
            known = list(parent.model_fields) if parent else []
            hint = difflib.get_close_matches(field, known, n=1)
            did = f" (did you mean '{hint[0]}'?)" if hint else ""
            lines.append(f"Policy pack '{source}', {where}{at}: unknown field '{field}'{did}")
        elif err["type"] == "missing":
            lines.append(f"Policy pack '{source}', {where}{at}: required field is missing")
        else:
            lines.append(f"Policy pack '{source}', {where}{at}: {err['msg']}")
    return "\n".join(lines)


def _resolve(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], yaml.Node | None]:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise PolicyError(f"Policy pack '{path}': 'extends' goes round in a circle ({chain}).")
    data, node = _read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, node
    if not isinstance(parent, str):
        raise PolicyError(f"Policy pack '{path}', extends: must be 'default' or a file path.")
    parent_path = _default_path() if parent == DEFAULT_PACK else (path.parent / parent)
    base, _ = _resolve(parent_path, (*seen, path))
    # Line numbers are reported for the child file, where the override was written.
    return _merge(base, data), node


def load_pack(path: str | Path | None = None) -> PolicyPack:
    """Load a pack from ``path`` (``None`` or ``"default"`` for the shipped one)."""
    target = _default_path() if path is None or path == DEFAULT_PACK else Path(path)
    data, node = _resolve(target, ())
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_format_errors(str(target), data, node, exc)) from None


@cache
def default_pack() -> PolicyPack:
    """The department's shipped pack, read once per process."""
    return load_pack(None)
