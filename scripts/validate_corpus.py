#!/usr/bin/env python3
"""Validate postguard training-corpus slices (stdlib only).

Usage: python3 scripts/validate_corpus.py data/corpus/*.jsonl

Each line must be a JSON object:
  id        unique string
  text      the post (non-empty)
  labels    list of clause ids (may be empty = compliant)
  evidence  object: clause id -> list of exact substrings of text that carry
            the violation (required for every label except A.ii, and for
            A.iii.confidential when the violation is only an attachment)
  context   optional: account, capacity, attachments, permissions
  voice     optional: who is posting (service, platform)
  note      optional: why it is labelled so
Prints problems and counts; exits 1 when any line is bad.
"""
from __future__ import annotations

import collections
import json
import sys

CLAUSES = {"A.i", "A.ii", "A.iii.guilt", "A.iii.prosecution", "A.iii.confidential",
           "A.iv.political", "A.iv.private"}
NO_EVIDENCE_OK = {"A.ii", "A.iii.confidential"}


def main(paths: list[str]) -> int:
    bad = 0
    seen: set[str] = set()
    counts: collections.Counter[str] = collections.Counter()
    texts: set[str] = set()
    total = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    d = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"{where}: not JSON: {e}"); bad += 1; continue
                total += 1
                problems = []
                if not isinstance(d.get("id"), str) or not d["id"]:
                    problems.append("missing id")
                elif d["id"] in seen:
                    problems.append(f"duplicate id {d['id']}")
                else:
                    seen.add(d["id"])
                text = d.get("text")
                if not isinstance(text, str) or not text.strip():
                    problems.append("missing text")
                    text = ""
                if text in texts:
                    problems.append("duplicate text")
                texts.add(text)
                labels = d.get("labels")
                if not isinstance(labels, list) or any(x not in CLAUSES for x in labels):
                    problems.append(f"bad labels {labels!r}")
                    labels = []
                if len(set(labels)) != len(labels):
                    problems.append("repeated label")
                ev = d.get("evidence", {}) or {}
                if not isinstance(ev, dict):
                    problems.append("evidence must be an object"); ev = {}
                for clause, spans in ev.items():
                    if clause not in labels:
                        problems.append(f"evidence for {clause} which is not a label")
                    if not isinstance(spans, list):
                        problems.append(f"evidence[{clause}] must be a list"); continue
                    for s in spans:
                        if not isinstance(s, str) or not s or s not in text:
                            problems.append(f"evidence[{clause}] {s!r} is not an exact substring of text")
                ctx = d.get("context") or {}
                for clause in labels:
                    if clause not in NO_EVIDENCE_OK and not ev.get(clause):
                        problems.append(f"label {clause} has no evidence")
                    if clause == "A.iii.confidential" and not ev.get(clause) and not ctx.get("attachments"):
                        problems.append("A.iii.confidential without evidence needs attachments in context")
                if "A.ii" in labels and not (ctx.get("account") == "personal" and ctx.get("capacity", "official") == "official"):
                    problems.append("A.ii needs context account=personal, capacity=official")
                if ctx.get("capacity") == "personal" and labels:
                    problems.append("capacity=personal posts carry no labels")
                for k in ctx:
                    if k not in {"account", "capacity", "attachments", "permissions"}:
                        problems.append(f"unknown context field {k}")
                if problems:
                    bad += 1
                    print(f"{where} ({d.get('id')}): " + "; ".join(problems))
                for c in labels or ["clean"]:
                    counts[c] += 1
    print(f"{total} posts, {bad} bad")
    for k, v in sorted(counts.items()):
        print(f"  {k:20} {v}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
