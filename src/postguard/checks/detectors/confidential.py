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

_JUVENILE_FIX = "Give the age and town only ('a 15-year-old boy from the area'), not the name."
_VICTIM_FIX = "Describe the victim without naming them ('a woman in her 20s')."

# Days and months, which start capitalised runs that are dates, not names ("Friday August 16,").
# Not "May", which is a name too.
_CALENDAR = (
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|"
    r"June|July|August|September|October|November|December"
)
# A personal name: two or three capitalised words (case-sensitive inside
# case-insensitive patterns). Common capitalised non-names are ruled out.
_NAME = (
    r"(?-i:(?!(?:The|This|That|Police|Officers?|Detectives?|Court|County|Street|Road|Station|"
    r"Anyone|He|She|They|His|Her|On|In|At|A|An|Victims?|Support|Services?|Unit|Care|Liaison|"
    r"Advocates?|Family|Families|Man|Men|Woman|Women|Boy|Girl|Teenager|Teen|Child|Baby|Person|"
    rf"People|Couple|Pedestrian|Motorcyclist|Driver|Cyclist|Suspects?|{_CALENDAR})\b)[A-Z][a-z'’]+"
    r"(?:[-\s](?!(?:Support|Services?|Unit|Team|Centre|Center|Office|Line|Helpline|Suspects?|"
    r"Arrested|Charged|Wanted|Sought)\b)[A-Z][a-z'’]+){1,2})"
)
# One given name alone, as a post names a victim it has named before or knows by it:
# "Tomasz was stabbed", "Kayden's murder". Not a day, a month, a place after "in"/"on", a
# word that starts a sentence about the police, nor a pronoun.
_FIRST_NAME = (
    r"(?<!\b(?:in|at|on|near|from)\s)"
    rf"(?-i:(?!(?:The|This|That|Today|Yesterday|Tonight|{_CALENDAR}|May|"
    r"Britain|England|London|Scotland|Wales|Ireland|America|Country|City|Town|"
    r"County|Police|Force|Team|Unit|Squad|Department|Office|Service|Year|Week|Night|Weekend|"
    r"Morning|Man|Woman|Boy|Girl|Victim|Driver|Everyone|Nobody|Someone|Somebody|Anyone|He|She|"
    r"They|It|Who|Officers?|One|Nothing|No|Street|Road|Parade|Avenue|Lane|Station|House|Shop|"
    r"Store|Bank|Park|Centre|Center|Mall|Court)\b)[A-Z][a-z]+\b(?![-\s][A-Z]))"
)
# An age written before a name: "22-year-old", "29-yr-old", "57yo".
_AGE_BEFORE = r"(?:\d{1,3}\s?-?\s?(?:years?|yrs?)[-\s]?old\s+|\d{1,3}\s?yo\s+)"
# The crimes (and deaths on the road) whose victims the policy protects.
_KILLING = r"(?:murder(?:ing)?|manslaughter|killing|death|homicide|(?:fatal\s+)?(?:stabbing|shooting))"
# Ages of juveniles: 10 to 17.
_MINOR_AGE = r"(?:1[0-7])"
# A missing-person appeal or its update may name a child (clauses.md).
_MISSING = (
    r"\b(?:missing|have\s+you\s+seen|whereabouts|concern\s+for|found\s+safe|been\s+located|"
    r"been\s+found|help\s+us\s+(?:find|locate)|runaway|amber\s+alert|last\s+seen)\b"
)


@register
class ConfidentialDetector(LearnedDetector):
    clause = "A.iii.confidential"
    # Structure, not phrases: a name in the shape the policy protects. The phrases
    # ("internal memo", "our informant") are in the pack.
    patterns = (
        # The victim of a killing named: "the murder of 22-year-old Name Surname", "murdering Name Surname".
        Pattern(
            "confidential.killing-of-named-victim",
            rf"\b(?:{_KILLING}\s+of|murdering|killing)\s+(?:the\s+)?{_AGE_BEFORE}?{_NAME}",
            0.88,
            "Names the victim of a killing.",
            _VICTIM_FIX,
        ),
        # "Name Surname's murder", "Name's death", "Marisol's tragic murder", "Kayden's killers".
        Pattern(
            "confidential.named-victims-killing",
            rf"(?:{_NAME}|\b{_FIRST_NAME})['’]s\s+(?:(?:tragic|untimely|senseless|brutal|horrific)\s+)?"
            rf"(?:{_KILLING}|murderers?|killers?|murder\s+investigation)\b"
            rf"(?!\s+(?:rate|toll|figures?|statistics))",
            0.85,
            "Names the victim of a killing.",
            _VICTIM_FIX,
        ),
        # "Name Surname, 24, was stabbed", "Name Surname (19) was shot and killed".
        Pattern(
            "confidential.named-person-was-attacked",
            rf"(?<!\b(?:in|at|on|near|from|into)\s){_NAME}(?:\s*,\s*(?:aged\s+)?\d{{1,3}}\s*,|\s*\(\d{{1,3}}\))?\s*(?:,\s*who\s+)?"
            rf"(?:was|has\s+been)\s+(?:fatally\s+|seriously\s+)?(?:killed|murdered|stabbed|shot|attacked|"
            rf"assaulted|raped|robbed|abducted|kidnapped)\b",
            0.85,
            "Names the victim of a crime.",
            _VICTIM_FIX,
        ),
        # A victim named by a given name alone: "Tomasz was stabbed". Weaker (a police dog or
        # a pet is named so too): a reviewer decides.
        Pattern(
            "confidential.first-name-was-attacked",
            rf"\b{_FIRST_NAME}(?:\s*,\s*(?:aged\s+)?\d{{1,3}}\s*,|\s*\(\d{{1,3}}\))?\s+"
            rf"(?:was|has\s+been)\s+(?:fatally\s+|seriously\s+|brutally\s+)?(?:killed|murdered|"
            rf"stabbed|shot|attacked|assaulted|raped|robbed|abducted|kidnapped)\b",
            0.7,
            "Names the victim of a crime.",
            _VICTIM_FIX,
        ),
        # A juvenile named: "15-year-old Name Surname", "a 16-year-old boy, Name Surname".
        Pattern(
            "confidential.juvenile-named-after-age",
            rf"\b{_MINOR_AGE}[-\s]?(?:year|yr)s?[-\s]?old(?:\s+(?:boy|girl|youth|teen(?:ager)?|"
            rf"juvenile|male|female|student|pupil|schoolboy|schoolgirl))?,?\s+{_NAME}",
            0.85,
            "Names a juvenile, which needs the written permission of the authority.",
            _JUVENILE_FIX,
            unless=_MISSING,
        ),
        # A juvenile named with the age after the name: "Name Surname, 16," or "Name Surname (15)".
        Pattern(
            "confidential.juvenile-named-before-age",
            rf"{_NAME},?\s+(?:\(\s*{_MINOR_AGE}\s*\)|(?:aged\s+)?{_MINOR_AGE},)",
            0.85,
            "Names a juvenile, which needs the written permission of the authority.",
            _JUVENILE_FIX,
            unless=_MISSING,
        ),
        # A victim named as such: "the victim, Name Surname", "victim Name Surname".
        Pattern(
            "confidential.victim-named-after-comma",
            rf"\b(?:the\s+)?(?:victims?|deceased|complainants?|survivors?)\s*,\s+{_NAME}",
            0.85,
            "Names a victim.",
            _VICTIM_FIX,
        ),
        # A victim named as the object of a crime: "attacked Name Surname".
        Pattern(
            "confidential.victim-object-of-crime",
            rf"\b(?:attack(?:ed|ing)|assault(?:ed|ing)|stabb(?:ed|ing)|shot|shooting\s+of|rob(?:bed|bing)|"
            rf"murder(?:ed|ing)?\s+of|murdered|raped?|rap(?:ed|ing)|abduct(?:ed|ing|ion\s+of)|"
            rf"kidnapp(?:ed|ing)|killed|killing\s+of|strangled|sexually\s+assaulted)\s+{_NAME}",
            0.8,
            "Names the victim of a crime.",
            _VICTIM_FIX,
        ),
    )

    def _attachment_findings(self, post: AnalysedPost) -> list[Finding]:
        media = self.pack.media
        flagged = []
        for name in post.context.attachments:
            if name in post.inspected:  # looked at by the media inspector: judged by what it shows
                continue
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
                rule="attachment-name",
                trace=f"attachment name words: {', '.join(words)}",
            )
            for name, words in flagged
        ]

    def detect(self, post: AnalysedPost) -> list[Finding]:
        return super().detect(post) + self._attachment_findings(post)
