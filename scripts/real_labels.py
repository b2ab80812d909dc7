#!/usr/bin/env python3
"""Label the real police posts of ../shared/real by id, without keeping their text.

Readers write work files (JSON Lines with exact evidence substrings) outside the
repository; this tool checks them and compiles them into id + spans annotations
under data/real/ (see data/real/GUIDE.md and data/real/README.md).

    python3 scripts/real_labels.py show --part 3 --of 8 --start 0 --count 40
    python3 scripts/real_labels.py show --ids-file ids.txt --start 0 --count 40
    python3 scripts/real_labels.py check WORKFILE [--part 3 --of 8 | --ids-file ids.txt]
    python3 scripts/real_labels.py compile --reader r1 WORKFILE... -o data/real/readers/r1.jsonl
    python3 scripts/real_labels.py agreement            # r1 against r2, per clause (Cohen's kappa)
    python3 scripts/real_labels.py finalize             # r1 + r2 + r3 adjudication -> annotations.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "real"
CLAUSES = ("A.i", "A.iii.guilt", "A.iii.prosecution", "A.iii.confidential", "A.iv.political", "A.iv.private")


def load_posts(folder: Path = REAL) -> dict[str, dict[str, object]]:
    posts: dict[str, dict[str, object]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    posts[row["id"]] = row
    return posts


def _order_key(post_id: str) -> str:
    return hashlib.sha256(f"real-labels:{post_id}".encode()).hexdigest()


def part_ids(posts: dict[str, dict[str, object]], part: int, of: int) -> list[str]:
    """The ids of one part: every post, in a fixed shuffled order, dealt into ``of`` parts."""
    ordered = sorted(posts, key=_order_key)
    return [pid for index, pid in enumerate(ordered) if index % of == part - 1]


def _ids(args: argparse.Namespace, posts: dict[str, dict[str, object]]) -> list[str]:
    if args.ids_file:
        return [line.strip() for line in Path(args.ids_file).read_text().splitlines() if line.strip()]
    if args.part:
        return part_ids(posts, args.part, args.of)
    sys.exit("give --part K --of N, or --ids-file FILE")


def cmd_show(args: argparse.Namespace) -> None:
    posts = load_posts()
    ids = _ids(args, posts)
    chosen = ids[args.start : args.start + args.count]
    print(f"# posts {args.start}..{args.start + len(chosen) - 1} of {len(ids)} in this batch")
    for pid in chosen:
        post = posts[pid]
        extra = f"  [account {post['account']}]" if post.get("account") else ""
        print(f"\n=== {pid}{extra}")
        print(post["text"])


def _problems(row: object, posts: dict[str, dict[str, object]]) -> list[str]:
    if not isinstance(row, dict):
        return ["a line must be a JSON object"]
    pid = row.get("id")
    if pid not in posts:
        return [f"unknown id {pid!r}"]
    text = str(posts[pid]["text"])
    labels, evidence = row.get("labels"), row.get("evidence", {})
    found: list[str] = []
    if not isinstance(labels, list) or any(lab not in CLAUSES for lab in labels):
        found.append(f"labels must be a list of {', '.join(CLAUSES)}; got {labels!r}")
        return found
    if len(set(labels)) != len(labels):
        found.append("a label is repeated")
    if not isinstance(evidence, dict):
        return [*found, "evidence must be an object"]
    for clause in evidence:
        if clause not in labels:
            found.append(f"evidence for {clause} but no such label")
    for clause in labels:
        phrases = evidence.get(clause)
        if not isinstance(phrases, list) or not phrases:
            found.append(f"label {clause} needs at least one evidence phrase")
            continue
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase.strip():
                found.append(f"{clause}: empty evidence")
            elif phrase not in text:
                found.append(f"{clause}: evidence {phrase!r} is not an exact substring of the post")
    note = row.get("note", "")
    if isinstance(note, str) and len(note) > 25:
        for i in range(len(note) - 24):
            if note[i : i + 25] in text:
                found.append("the note quotes the post; describe the reason in your own words")
                break
    return found


def _read_work(path: Path) -> list[tuple[int, object]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                rows.append((number, f"not valid JSON: {exc.msg}"))
    return rows


def cmd_check(args: argparse.Namespace) -> None:
    posts = load_posts()
    bad = 0
    seen: dict[str, int] = {}
    for number, row in _read_work(Path(args.file)):
        problems = [row] if isinstance(row, str) else _problems(row, posts)
        if isinstance(row, dict) and isinstance(row.get("id"), str):
            if row["id"] in seen:
                problems.append(f"id {row['id']} already labelled on line {seen[row['id']]}")
            seen[row["id"]] = number
        for problem in problems:
            bad += 1
            print(f"line {number}: {problem}")
    if args.part or args.ids_file:
        expected = _ids(args, posts)
        missing = [pid for pid in expected if pid not in seen]
        extra = [pid for pid in seen if pid not in set(expected)]
        print(f"{len(seen)} of {len(expected)} posts of the batch labelled; {len(missing)} missing")
        if missing:
            print("first missing: " + ", ".join(missing[:10]))
        if extra:
            print(f"{len(extra)} ids are not in this batch: " + ", ".join(extra[:10]))
    print("OK" if not bad else f"{bad} problem(s)")
    sys.exit(1 if bad else 0)


def spans_of(text: str, phrases: list[str]) -> list[list[int]]:
    spans = []
    for phrase in phrases:
        start = text.find(phrase)
        if start >= 0:
            spans.append([start, start + len(phrase)])
    return sorted(spans)


def cmd_compile(args: argparse.Namespace) -> None:
    posts = load_posts()
    out: dict[str, dict[str, object]] = {}
    for name in args.files:
        for number, row in _read_work(Path(name)):
            problems = [row] if isinstance(row, str) else _problems(row, posts)
            if problems:
                sys.exit(f"{name}:{number}: {problems[0]} (fix it with 'check' first)")
            assert isinstance(row, dict)
            text = str(posts[row["id"]]["text"])
            labels = sorted(row["labels"], key=CLAUSES.index)
            out[row["id"]] = {
                "id": row["id"],
                "labels": labels,
                "spans": {c: spans_of(text, row["evidence"][c]) for c in labels},
                "reader": args.reader,
            }
    target = Path(args.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as fh:
        for pid in sorted(out):
            fh.write(json.dumps(out[pid], sort_keys=True) + "\n")
    positives = sum(1 for r in out.values() if r["labels"])
    print(f"wrote {len(out)} annotations ({positives} with labels) to {target}")


READERS = ROOT / "data" / "real" / "readers"


def _reader(name: str) -> dict[str, dict[str, object]]:
    path = READERS / f"{name}.jsonl"
    with path.open(encoding="utf-8") as fh:
        return {row["id"]: row for row in map(json.loads, fh)}


def cmd_agreement(_args: argparse.Namespace) -> None:
    first, second = _reader("r1"), _reader("r2")
    ids = sorted(second)
    same = sum(set(first[i]["labels"]) == set(second[i]["labels"]) for i in ids)  # type: ignore[arg-type]
    print(f"{len(ids)} posts read twice; the same labels on {same} ({same / len(ids):.1%})")
    print(f"{'clause':20} {'r1':>4} {'r2':>4} {'both':>5} {'kappa':>6}")
    for clause in CLAUSES:
        a = [clause in first[i]["labels"] for i in ids]  # type: ignore[operator]
        b = [clause in second[i]["labels"] for i in ids]  # type: ignore[operator]
        n = len(ids)
        observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
        pa, pb = sum(a) / n, sum(b) / n
        chance = pa * pb + (1 - pa) * (1 - pb)
        both = sum(x and y for x, y in zip(a, b, strict=True))
        kappa = f"{(observed - chance) / (1 - chance):6.3f}" if chance < 1 else "   n/a"
        print(f"{clause:20} {sum(a):4} {sum(b):4} {both:5} {kappa}")


def _stratum(labels: list[str], counts: dict[str, int]) -> str:
    return min(labels, key=lambda c: (counts[c], c)) if labels else "clean"


def cmd_finalize(_args: argparse.Namespace) -> None:
    first, second = _reader("r1"), _reader("r2")
    third = _reader("r3-adjudication")
    final: dict[str, dict[str, object]] = {}
    for pid, row in first.items():
        labels = list(row["labels"])  # type: ignore[call-overload]
        readers = ["r1"]
        if pid in second:
            readers.append("r2")
            if pid in third:
                labels = list(third[pid]["labels"])  # type: ignore[call-overload]
                readers.append("r3")
            elif set(labels) != set(second[pid]["labels"]):  # type: ignore[call-overload]
                sys.exit(f"{pid}: the readers disagree and there is no adjudication")
        spans: dict[str, list[list[int]]] = {}
        for clause in labels:
            found = sorted(
                {
                    tuple(span)
                    for reader in (first, second)
                    if pid in reader
                    for span in reader[pid]["spans"].get(clause, [])  # type: ignore[union-attr]
                }
            )
            if not found:
                sys.exit(f"{pid}: no reader gave evidence for {clause}")
            spans[clause] = [list(span) for span in found]
        final[pid] = {"id": pid, "labels": sorted(labels, key=CLAUSES.index), "spans": spans, "readers": readers}
    counts = {c: sum(c in r["labels"] for r in final.values()) for c in CLAUSES}  # type: ignore[operator]
    target = ROOT / "data" / "real" / "annotations.jsonl"
    # The split is fixed once made: a post keeps its split when a later reading changes its
    # labels, so relabelling never moves posts between train and test. Only posts that have
    # no split yet are dealt, by their rarest label, every fourth of a stratum to test.
    fixed: dict[str, str] = {}
    if target.exists():
        with target.open(encoding="utf-8") as fh:
            fixed = {row["id"]: row["split"] for row in map(json.loads, fh) if "split" in row}
    strata: dict[str, list[str]] = {}
    for pid, row in final.items():
        if pid in fixed:
            row["split"] = fixed[pid]
        else:
            strata.setdefault(_stratum(row["labels"], counts), []).append(pid)  # type: ignore[arg-type]
    for members in strata.values():
        members.sort(key=lambda i: hashlib.sha256(f"real-split:{i}".encode()).hexdigest())
        for index, pid in enumerate(members):
            final[pid]["split"] = "test" if index % 4 == 0 else "train"
    with target.open("w", encoding="utf-8") as fh:
        for pid in sorted(final):
            fh.write(json.dumps(final[pid], sort_keys=True) + "\n")
    test = [r for r in final.values() if r["split"] == "test"]
    print(f"wrote {len(final)} annotations to {target}; {len(test)} in the test split")
    for clause in CLAUSES:
        total = counts[clause]
        held = sum(clause in r["labels"] for r in test)  # type: ignore[operator]
        print(f"  {clause:20} {total:4} posts, {held:3} in test")
    clean = [r for r in final.values() if not r["labels"]]
    print(f"  {'clean':20} {len(clean):4} posts, {sum(r['split'] == 'test' for r in clean):3} in test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("show", "check"):
        p = sub.add_parser(name)
        if name == "check":
            p.add_argument("file")
        p.add_argument("--part", type=int)
        p.add_argument("--of", type=int, default=8)
        p.add_argument("--ids-file")
        if name == "show":
            p.add_argument("--start", type=int, default=0)
            p.add_argument("--count", type=int, default=40)
    p = sub.add_parser("compile")
    p.add_argument("--reader", required=True)
    p.add_argument("files", nargs="+")
    p.add_argument("-o", "--output", required=True)
    sub.add_parser("agreement")
    sub.add_parser("finalize")
    args = parser.parse_args()
    commands = {
        "show": cmd_show,
        "check": cmd_check,
        "compile": cmd_compile,
        "agreement": cmd_agreement,
        "finalize": cmd_finalize,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
