"""What changed between two texts of a post, word by word, as escaped HTML with ``ins`` and ``del``."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from markupsafe import Markup, escape

__all__ = ["word_diff"]

#: A word with the spaces after it (and any spaces the text starts with), so that a changed
#: word reads as "<del>old </del><ins>new </ins>", apart from its neighbours.
_TOKENS = re.compile(r"^\s+|\S+\s*")


def word_diff(before: str, after: str) -> Markup:
    """``after`` against ``before``: words removed in ``<del>``, words added in ``<ins>``.

    Words (each with the spaces after it) are compared as tokens (difflib), so a
    changed word is one deletion and one insertion. Every piece of text is
    escaped: a post's ``<script>`` is shown, never run.
    """
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    out: list[Markup] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(old[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(Markup("<del>{}</del>").format("".join(old[i1:i2])))
        if op in ("insert", "replace"):
            out.append(Markup("<ins>{}</ins>").format("".join(new[j1:j2])))
    return Markup("").join(out)
