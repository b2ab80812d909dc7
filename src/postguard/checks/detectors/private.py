"""Clause A.iv.private: private business and personal gain."""

from __future__ import annotations

from postguard.checks.detectors.base import Pattern, register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["PrivateDetector"]

_FIX = "Remove the promotion; only department-sanctioned events may be announced."
_FAMILY = (
    r"(?:my|our)\s+(?:(?:little|big|older|younger|baby|kid|twin|lovely|good|best|"
    r"old)\s+)?(?:cousin|brother|sister|bro|sis|wife|husband|hubby|missus|partner|mum|mom|"
    r"mother|dad|father|uncle|aunt|auntie|son|daughter|nephew|niece|friend|mate|pal|buddy|"
    r"son-in-law|daughter-in-law|brother-in-law|sister-in-law|fianc[ée]e?|girlfriend|"
    r"boyfriend|family|neighbou?r|better\s+half)(?:'s|s')?"
)


@register
class PrivateDetector(LearnedDetector):
    clause = "A.iv.private"
    model_explanation = "Promotes a private business, product, sale or fundraiser for personal gain."
    patterns = (
        # A relative's or friend's business.
        Pattern(
            _FAMILY + r"\s+(?:[\w'&-]+\s+){0,3}(?:shop|garage|business|salon|store|bakery|"
            r"restaurant|cafe|café|food\s+truck|gym|company|firm|cabs?|taxis?|book|page|"
            r"gofundme|fundraiser|stall|boutique|barbers?|bar|pub|studio|brand|clinic|agency|"
            r"bakes|cakes|catering|candles|jewellery|jewelry|products|range|channel|podcast)\b",
            0.88,
            "Promotes a business of the writer's family or friends.",
            _FIX,
        ),
        # Discount codes and direct sales.
        Pattern(
            r"\b(?:use|with|enter)\s+(?:my\s+|the\s+|our\s+)?(?:promo\s+|discount\s+|referral\s+|"
            r"coupon\s+)?code\s+[\"']?[A-Z0-9]{3,}|\b(?:dm|pm|message|inbox|text)\s+me\s+(?:for|to\s+"
            r"(?:order|book|buy|get))|\b(?:mention|tell\s+them|say)\s+(?:my\s+name|I\s+sent\s+you)\b|"
            r"\bshameless\s+(?:self[\s-])?plug\b|\blink\s+in\s+(?:my\s+)?bio\b",
            0.9,
            "Solicits sales or custom for personal gain.",
            _FIX,
        ),
        # Selling the writer's own work.
        Pattern(
            r"\b(?:buy|order|grab|get|pre-?order|check\s+out)\s+(?:a\s+copy\s+of\s+|your\s+copy\s+of\s+)?"
            r"my\s+(?:new\s+|latest\s+|first\s+|debut\s+)?(?:book|novel|e-?book|memoir|album|"
            r"prints?|art|calendar|course|merch|products?|candles?|cakes?|photography|"
            r"photos|services?)\b",
            0.9,
            "Sells the writer's own products or services.",
            _FIX,
        ),
        # Personal crowdfunding.
        Pattern(
            r"\b(?:gofundme\.com/\S+|(?:my|our)\s+(?:\w+\s+){0,2}(?:gofundme|go\s+fund\s+me|"
            r"kickstarter|patreon|just\s*giving|crowdfunder))\b",
            0.88,
            "Promotes a personal fundraiser.",
            _FIX,
        ),
    )
