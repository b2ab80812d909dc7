"""Clause A.i, conduct and decorum: profanity, slurs, insults, mockery, threats."""

from __future__ import annotations

from postguard.checks.detectors.base import Pattern, register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["DecorumDetector"]

_SWEAR = "Profanity is not what a representative of the department may post."
_SWEAR_FIX = "Leave the swear word out; say the same thing plainly."


@register
class DecorumDetector(LearnedDetector):
    clause = "A.i"
    model_explanation = (
        "Insulting, mocking, gloating or otherwise improper wording for a representative of the department."
    )
    patterns = (
        # Strong swear words, whatever the spelling tricks (normalised first).
        Pattern(
            r"\b(?:f+u+c+k+\w*|motherf\w+|sh[i]+t(?:e|ty|head|show|bag)?s?|bullshit|"
            r"bastards?|bitch(?:es|y)?|arse-?holes?|ass-?holes?|dick-?heads?|wankers?|"
            r"twats?|cunts?|piss(?:ed)?\s+off|bollocks|jackass(?:es)?|dumbass(?:es)?)\b",
            0.93,
            _SWEAR,
            _SWEAR_FIX,
        ),
        # Masked swearing: f***, sh*t, b*tch, f#@k.
        Pattern(
            r"\b(?:f[\*#@!%&]{2,}k?|f[\*#@]ck\w*|sh[\*#@!]t\w*|b[\*#@!]tch\w*|a[\*#@]{2}hole)",
            0.88,
            _SWEAR,
            _SWEAR_FIX,
        ),
        # Abbreviated swearing.
        Pattern(r"\b(?:wtf|stfu|gtfo|fml|ffs)\b", 0.85, _SWEAR, _SWEAR_FIX),
        # Telling people to go away in insulting terms.
        Pattern(
            r"\b(?:shut\s+(?:up|your\s+(?:mouth|trap|gob))|get\s+stuffed|sod\s+off|bugger\s+off|"
            r"cry\s+(?:me\s+)?a\s+river|boo[\s-]?hoo|go\s+cry\s+about\s+it|deal\s+with\s+it,?\s+"
            r"(?:loser|snowflake)s?)\b",
            0.85,
            "Taunts or dismisses people in insulting terms.",
            "Address the public respectfully, even when correcting them.",
        ),
        # Names for people that are insults wherever they are aimed.
        Pattern(
            r"\b(?:idiots?|morons?|imbeciles?|halfwits?|numpties|numpty|muppets?|"
            r"low-?lifes?|dirtbags?|scumbags?|knuckleheads?|knuckle-draggers?|cretins?|"
            r"nitwits?|dimwits?|lunatics?|degenerates?|vermin|snowflakes?|karens?|"
            r"clowns?|clown\s+face|rejects?|dopes?)\b",
            0.82,
            "Calls people names, which the department's standards of conduct forbid.",
            "Describe what happened without name-calling.",
        ),
        # Sarcastic praise aimed at offenders or the public.
        Pattern(
            r"\b(?:criminal\s+masterminds?|rocket\s+scientists?|einsteins?|"
            r"(?:what|real|absolute|another)\s+(?:a\s+)?(?:genius|geniuses|legend|hero|"
            r"winner|gem|bright\s+spark|champ)(?:es|s)?|nice\s+try|(?:brains|smarts)\s+of\s+a)\b",
            0.8,
            "Mocks people with sarcasm.",
            "State the facts without sarcasm about the people involved.",
        ),
        # Gloating over someone's arrest, sentence or misfortune.
        Pattern(
            r"\b(?:enjoy\s+(?:your|the)\s+(?:stay|new\s+home|porridge|time|cell|holiday|orange)|"
            r"bye[\s-]?bye|sweet\s+dreams|hope\s+(?:you|he|she|they)\s+(?:enjoy|like|rot)|"
            r"don'?t\s+drop\s+the\s+soap|karma'?s\s+a|sucks?\s+to\s+be\s+(?:you|him|her|them)|"
            r"play\s+stupid\s+games|win\s+stupid\s+prizes|(?:ha){2,}|lo+l\b|lmf?ao+|rofl)\b",
            0.8,
            "Gloats or jeers at the people concerned.",
            "Report the outcome without gloating.",
        ),
        # Threats.
        Pattern(
            r"\b(?:we(?:'ll|\s+will)\s+(?:hunt\s+you|come\s+for\s+you|make\s+you\s+(?:pay|regret)|"
            r"find\s+you\s+and)|you(?:'ve|\s+have)\s+been\s+warned,?\s+(?:punk|sunshine|scum)|"
            r"watch\s+your\s+back|you'?re\s+(?:next|going\s+down)|we\s+know\s+where\s+you\s+live)\b",
            0.85,
            "Threatens people instead of informing them.",
            "State the consequence in law, e.g. 'Offenders will be prosecuted.'",
        ),
    )
