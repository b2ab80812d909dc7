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
# One capitalised word of a name, in any alphabet: "Smith", "Ché", "McKinley", "O'Neil", "D'Andre".
_NAME_WORD = r"\p{Lu}(?:['’]\p{Lu})?\p{Ll}['’\p{Ll}]*(?:\p{Lu}\p{Ll}+)?"
# A personal name: two or three capitalised words (case-sensitive inside
# case-insensitive patterns), a middle initial allowed ("Daniel A. McCartney"),
# with "Jr." or "III" after it. Common capitalised non-names are ruled out.
_NAME = (
    r"(?-i:(?=\p{Lu})(?!(?:The|This|That|Police|Officers?|Detectives?|Court|County|Street|Road|Station|"
    r"Anyone|He|She|They|His|Her|On|In|At|A|An|Victims?|Support|Services?|Unit|Care|Liaison|"
    r"Advocates?|Family|Families|Man|Men|Woman|Women|Boy|Girl|Teenager|Teen|Child|Baby|Person|"
    r"People|Couple|Pedestrian|Motorcyclist|Driver|Cyclist|Suspects?|Two|Three|Four|Five|Six|Seven|Eight|"
    rf"Nine|Ten|{_CALENDAR})\b){_NAME_WORD}"
    r"(?:[-\s](?:[A-Z]\.?\s)?(?!(?:Support|Services?|Unit|Team|Centre|Center|Office|Line|Helpline|Police|"
    r"Officers?|Department|Sheriff|"
    rf"Suspects?|Arrested|Charged|Wanted|Sought)\b){_NAME_WORD}){{1,2}}(?:,?\s(?:Jr|Sr)\.?|\s(?:II|III|IV)\b)?)"
)
# Words that end a place's name ("Kingsway Market", "Mill Lane"), not a person's.
_PLACE_WORDS = r"Street|Road|Avenue|Lane|Station|Park|Centre|Center|Mall|Court"
# One given name alone, as a post names a victim it has named before or knows by it:
# "Tomasz was stabbed", "Kayden's murder". Not a day, a month, a place after "in"/"on", a
# word that starts a sentence about the police, nor a pronoun.
_FIRST_NAME = (
    r"(?-i:(?=[A-Z]))(?<!\b(?:in|at|on|near|from)\s)"
    rf"(?-i:(?!(?:The|This|That|Today|Yesterday|Tonight|{_CALENDAR}|May|"
    r"Britain|England|London|Scotland|Wales|Ireland|America|Country|City|Town|"
    r"County|Police|Force|Team|Unit|Squad|Department|Office|Service|Year|Week|Night|Weekend|"
    r"Morning|Man|Woman|Boy|Girl|Victim|Driver|Everyone|Nobody|Someone|Somebody|Anyone|He|She|"
    rf"They|It|Who|Officers?|One|Nothing|No|Parade|House|Shop|Store|Bank|{_PLACE_WORDS})\b)"
    r"[A-Z][a-z]+\b(?![-\s][A-Z]))"
)
# An age in figures or in words, "one" to "ninety-nine".
_NUMBER = (
    r"(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|(?:twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?)"
)
# An age written before a name: "22-year-old", "one-year-old", "29-yr-old", "57yo".
_AGE_BEFORE = rf"(?:{_NUMBER}\s?-?\s?(?:years?|yrs?)[-\s]?old\s+|\d{{1,3}}\s?yo\s+)"
# An age written after a name: "Name Surname, 24," or "Name Surname (19)".
_AGE_AFTER = r"(?:\s*,\s*(?:aged\s+)?\d{1,3}\s*,|\s*\(\d{1,3}\))"
# Not a name when it follows "in", "on"...: a place ("a shop on Marine Parade was robbed").
_NOT_A_PLACE = r"(?<!\b(?:in|at|on|near|from|into)\s)"
# Words that describe a victim before their name: "father of three, Name", "missing #Town woman Name",
# "much loved grandmother, Name", "footballer Name". Lower-case words only, at most four.
_DESCRIBED = (
    r"(?:(?:(?-i:[a-z#][\w'’-]*)\s+){0,3}(?:man|woman|boy|girl|teenager|teen|toddler|baby|child|"
    r"mother|mum|father|dad|grandmother|grandfather|grandad|gran|pensioner|student|schoolboy|"
    r"schoolgirl|teacher|nurse|footballer|musician|rapper|worker|driver|cyclist|motorcyclist|"
    r"pedestrian|(?:father|mother|dad|mum)\s+of\s+\w+|(?:his|her|their)\s+(?:partner|wife|husband|girlfriend|"
    r"boyfriend|fianc[eé]e?|daughter|son|mother|father|brother|sister|baby|child)),?\s+)"
)
# The crimes (and deaths on the road) whose victims the policy protects.
_KILLING = (
    r"(?:murders?|murdering|manslaughter|killings?|deaths?|homicides?|(?:fatal\s+)?(?:stabbing|shooting)s?|"
    r"homicide\s+cases?)"
)
# Words that make a sentence about the accused (who may be named) or a missing person.
_ACCUSED = r"(?:charged|arrested|suspects?|accused|wanted|convicted|jailed|sentenced|guilty|missing)"
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
        # The victim of a killing named: "the murder of 22-year-old Name Surname", "murdering Name
        # Surname", "the death of grandmother, Name Surname", "took the life of Name Surname".
        Pattern(
            "confidential.killing-of-named-victim",
            rf"\b(?:{_KILLING}\s+of|killers?\s+of|(?:the\s+)?body\s+of|murdering|murdered|killing|"
            rf"(?:took|claimed)\s+the\s+lives?\s+of)\s+"
            rf"(?:the\s+)?(?:{_AGE_BEFORE}|{_DESCRIBED})?{_NAME}",
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
        # A case called by its victim's name: "the Name Surname homicide case", "Name Surname's murder
        # investigation". Not a place ("Saffron Drive Murder Investigation", "the Kingsway Market murder
        # case") nor a headline's capitals; not a "trial", which is the accused's as often as not.
        Pattern(
            "confidential.named-killing-case",
            rf"{_NAME}(?<!\b(?:{_PLACE_WORDS}|Drive|Market|Estate|Square|Close|Way|Hill|Green|Bridge|Made|Bar|"
            rf"Club|Hotel|School|College))(?:['’]s)?\s+"
            rf"(?-i:homicide|murder|killing|manslaughter)\s+(?:case|investigation|inquiry|enquiry|probe)\b",
            0.85,
            "Names the victim of a killing.",
            _VICTIM_FIX,
        ),
        # "Name Surname, 24, was stabbed", "Name Surname (19) was shot and killed".
        Pattern(
            "confidential.named-person-was-attacked",
            rf"{_NOT_A_PLACE}{_NAME}{_AGE_AFTER}?"
            rf"(?:\s*\((?:pictured|above|below|left|right)[^)]{{0,20}}\))?\s*(?:,?\s*who\s+)?"
            rf"(?:(?:was|has\s+been)\s+(?:fatally\s+|seriously\s+|critically\s+)?(?:killed|murdered|stabbed|shot|"
            rf"attacked|assaulted|raped|robbed|abducted|kidnapped|injured)\b|was\s+the\s+victim\b|"
            rf"suffered\s+(?:\w+\s+){{0,2}}injur(?:y|ies)\b)",
            0.85,
            "Names the victim of a crime.",
            _VICTIM_FIX,
        ),
        # A victim named by a given name alone: "Tomasz was stabbed". Weaker (a police dog or
        # a pet is named so too): a reviewer decides.
        Pattern(
            "confidential.first-name-was-attacked",
            rf"\b{_FIRST_NAME}{_AGE_AFTER}?\s+"
            rf"(?:was|has\s+been)\s+(?:fatally\s+|seriously\s+|brutally\s+)?(?:killed|murdered|"
            rf"stabbed|shot|attacked|assaulted|raped|robbed|abducted|kidnapped)\b",
            0.7,
            "Names the victim of a crime.",
            _VICTIM_FIX,
        ),
        # Someone who died in a crime or a collision, named: "Name Surname, 77, died following a
        # collision", "Name Surname died in hospital". Not "died of" (an illness), nor a bare "died".
        Pattern(
            "confidential.named-person-died",
            rf"{_NOT_A_PLACE}{_NAME}(?:\s*,\s*(?:aged\s+)?\d{{1,3}}\s*,(?:\s*from\s+"
            rf"[\w#]+(?:\s[A-Z][a-z]+)?\s*,)?|\s*\(\d{{1,3}}\))?\s*(?:,?\s*who\s+)?(?:sadly\s+|tragically\s+)?"
            rf"(?:died\s+(?:after|following|at\s+the\s+scene|in\s+hospital|in\s+the\s+(?:collision|crash|attack|"
            rf"incident|fire)|from\s+(?:his|her|their)\s+injuries)|has\s+died|was\s+found\s+dead)\b",
            0.85,
            "Names someone who died in a crime or a collision.",
            _VICTIM_FIX,
        ),
        # The dead named in a sentence about the death: "the teenager who was fatally shot ... has
        # been named as Name Surname", "investigating the murder of a man ... have named him as
        # 38yo Name Surname". Not when the sentence is about an arrest or a charge (an adult
        # arrested or charged may be named).
        Pattern(
            "confidential.dead-named-as",
            r"\b(?:died|dead|death|killed|murder(?:ed)?|homicide|fatal(?:ly)?|victims?|deceased)\b"
            rf"(?<!\b{_ACCUSED}\b[^.!?\n]*)(?:(?!\b{_ACCUSED}\b)[^.!?\n]){{0,160}}?\b(?:named|identified)"
            r"(?:\s+(?:him|her|them|locally|today|formally))?\s+as\s+"
            rf"(?:{_AGE_BEFORE})?{_NAME}",
            0.88,
            "Names someone who died in a crime or a collision.",
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
            rf"\b(?:attack(?:ed|ing)|assault(?:ed|ing)|assault\s+of|stabb(?:ed|ing)|shot|shooting\s+of|"
            rf"rob(?:bed|bing)|murder(?:ed|ing)?\s+of|murdered|raped?|rap(?:ed|ing)|"
            rf"abduct(?:ed|ing|ion\s+of)|kidnapp(?:ed|ing)|killed|killing\s+of|strangled|"
            rf"(?:racially\s+|sexually\s+)?(?:abus(?:ed|ing)|assaulted))\s+(?:{_AGE_BEFORE}|{_DESCRIBED})?{_NAME}",
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
