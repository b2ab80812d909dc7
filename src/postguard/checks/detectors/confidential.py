"""Clause A.iii.confidential: confidential information, photos and videos.

Text is judged by patterns and the model; attachments are judged by their
file names (the words the pack lists), since their content is not analysed
here. A claimed permission of the authority is applied by the engine, which
turns these findings into advice for a reviewer to confirm.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from postguard.checks.analysed import AnalysedPost
from postguard.checks.detectors.base import Pattern, register
from postguard.checks.detectors.learned import LearnedDetector
from postguard.checks.types import Finding

__all__ = ["ConfidentialDetector"]

_FIX = "Remove the confidential detail, or obtain the written permission before release."


@register
class ConfidentialDetector(LearnedDetector):
    clause = "A.iii.confidential"
    model_explanation = "Discloses confidential information: a victim, juvenile or witness, internal material, an operation or unreleased evidence."
    patterns = (
        # A victim or witness named.
        Pattern(
            r"\b(?:the\s+)?(?:victims?|deceased|witness(?:es)?|survivors?|complainants?)\b[^.!?\n]{0,30}?"
            r"\b(?:named|identified)\s+as\s+(?-i:[A-Z][a-z]+)",
            0.9,
            "Names a victim or witness.",
            _FIX,
        ),
        # Internal material.
        Pattern(
            r"\b(?:internal\s+(?:memo|email|document|report|briefing|circular)|leaked\s+\w+|"
            r"(?:here'?s|here\s+is|listen\s+to|check\s+out)\s+(?:the\s+|some\s+|a\s+)?"
            r"(?:radio\s+(?:traffic|chatter|calls?)|dispatch\s+audio|(?:999|911|000|112)\s+call|"
            r"memo|screenshot|bodycam|body-?cam|body-worn|interview))",
            0.88,
            "Discloses internal material (documents, radio traffic, recordings).",
            _FIX,
        ),
        # Informants and undercover officers.
        Pattern(
            r"\b(?:our|an?|the)\s+(?:informants?|informers?|confidential\s+informants?|"
            r"source\s+inside|undercover\s+(?:officers?|cops?|operatives?|agents?)\s+(?:inside|in|who))\b",
            0.85,
            "Reveals an informant or undercover officer.",
            _FIX,
        ),
    )

    def _attachment_findings(self, post: AnalysedPost) -> list[Finding]:
        media = self.pack.media
        flagged = []
        for name in post.context.attachments:
            words = set(re.split(r"[^a-z0-9]+", PurePosixPath(name).stem.lower())) - {""}
            stem = PurePosixPath(name).stem.lower()
            secret = sorted(w for w in media.confidential_words if w in words or ("_" in w and w in stem))
            released = sorted(w for w in media.released_words if w in words)
            if secret and not released:
                flagged.append((name, secret))
        if not flagged:
            return []
        start, end = post.sentences[0] if post.sentences else (0, len(post.text))
        return [
            post.finding(
                self.clause,
                start,
                end,
                score=0.8,
                explanation=(
                    f"The attachment '{name}' appears to be confidential material "
                    f"({', '.join(words)}), released without written permission."
                ),
                suggestion="Remove the attachment, or obtain the written permission before release.",
                source="attachment",
            )
            for name, words in flagged
        ]

    def detect(self, post: AnalysedPost) -> list[Finding]:
        return super().detect(post) + self._attachment_findings(post)
