"""Clause A.iii.guilt: statements on the guilt or innocence of a suspect."""

from __future__ import annotations

from postguard.checks.detectors.base import Pattern, register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["GuiltDetector"]

# A post is about a suspect when it reports an arrest, a charge or custody.
_ARREST = (
    r"\b(?:arrest\w*|charged|detained|in\s+custody|custody|apprehended|caught|nabbed|"
    r"booked|remanded|suspect|accused|court|picked\s+up|taken\s+in|locked\s+up|behind\s+bars|"
    r"in\s+cuffs|cuffed|collared)\b"
)
_LABEL = "Calls a suspect or arrested person guilty before any verdict."
_LABEL_FIX = "Call the person 'a man' or 'the suspect', and say what they were arrested or charged for."


@register
class GuiltDetector(LearnedDetector):
    clause = "A.iii.guilt"
    model_explanation = (
        "States or implies that a suspect or arrested person is guilty (or innocent) before any verdict."
    )
    patterns = (
        # "the killer", "this thief", "these thugs" in a post about an arrest.
        Pattern(
            r"\b(?:the|this|that|these|those|our|a|another)\s+(?:(?:vile|evil|sick|violent|"
            r"notorious|serial|cowardly|heartless|dangerous|prolific|brazen)\s+)?"
            r"(?:killers?|murderers?|rapists?|thie(?:f|ves)|robbers?|burglars?|shooters?|"
            r"gunm[ae]n|arsonists?|pa?edophiles?|predators?|culprits?|perps?|perpetrators?|"
            r"thugs?|scumbags?|scum|dirtbags?|animals?|monsters?|crooks?|fraudsters?|"
            r"scammers?|abusers?|attackers?|carjackers?|stabbers?|paedos?|pedos?|"
            r"lowlifes?|low-lifes?|criminals?|offenders?|drug\s+dealers?|dealers?|"
            r"poachers?|vandals?|looters?|hooligans?|kidnappers?|traffickers?)\b",
            0.72,
            _LABEL,
            _LABEL_FIX,
            context=_ARREST,
        ),
        # "we got our man", "caught red-handed", "he did it".
        Pattern(
            r"\b(?:we\s+(?:got|caught|have|nabbed|bagged)\s+(?:our|the|him|her|them|the\s+right)\s*"
            r"(?:man|guy|woman|girl|lad|culprits?|person|people|suspects?|perps?|crew|gang)?|"
            r"caught\s+(?:him\s+|her\s+|them\s+)?red[\s-]?handed|bang\s+to\s+rights|"
            r"(?:he|she|they)\s+did\s+it|case\s+closed|no\s+doubt\s+(?:he|she|they)\s+did|"
            r"justice\s+(?:has\s+been|was|is|will\s+be)\s+served|guilty\s+as\s+sin|"
            r"the\s+real\s+culprits?)\b",
            0.9,
            _LABEL,
            _LABEL_FIX,
        ),
        # "he is guilty", "she is innocent" (not "found guilty", not "presumed innocent").
        Pattern(
            r"\b(?:he|she|they|the\s+(?:suspect|accused|defendant|man|woman|driver|arrestee)s?)\s+"
            r"(?:is|was|are|were)\s+(?:clearly\s+|obviously\s+|definitely\s+|totally\s+|"
            r"completely\s+|100%\s+)?(?:guilty|innocent)\b(?!\s+until)",
            0.9,
            "States that a suspect is guilty or innocent.",
            _LABEL_FIX,
        ),
        # Scare quotes around "alleged".
        Pattern(
            r"[\"'](?:alleged(?:ly)?|suspect(?:ed)?|innocent)[\"']",
            0.85,
            "Scare quotes imply that the suspect is guilty.",
            _LABEL_FIX,
        ),
        # "off our streets" about an arrested person, with a name for them.
        Pattern(
            r"\b(?:one|another|two|three|\d+)\s+(?:less|fewer|more)\s+(?:thugs?|criminals?|"
            r"crooks?|scumbags?|dirtbags?|predators?|thieves|dealers?|bad\s+guys?|animals?|"
            r"lowlifes?)\b",
            0.88,
            _LABEL,
            _LABEL_FIX,
        ),
    )
