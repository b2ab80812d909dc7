"""Issue 12 in a real browser: a member who has not acknowledged the policy in force sees a banner,
reads the policy, answers its quiz (a wrong answer is refused and the answers kept), acknowledges
it, and the banner goes; the dashboard shows overseers who has not acknowledged. At 390 px the
policy page does not scroll sideways and the quiz works by keyboard.

In the demo, 1001, 2002 and 3003 have acknowledged the shipped pack; 4004 and 5005 have not.
"""

from __future__ import annotations

from typing import Any

import pytest

from browser_support import expect, shot, signed_in
from postguard.policy.loader import default_pack
from postguard.registry.acknowledgements import quiz_for

pytestmark = pytest.mark.slow

LEGEND = "Question {n}: does this violate the policy, and if so which clause?"


def _acknowledgements(page: Any) -> Any:
    return page.locator("#acknowledgements")


def test_a_member_reads_the_policy_answers_the_quiz_and_acknowledges(
    demo_service: tuple[str, str], browser: Any
) -> None:
    base, _ = demo_service
    pack = default_pack()  # the demo serves the shipped pack
    auditor = signed_in(browser, base, "5005")

    # The auditor has not acknowledged: a banner on every page leads to the policy.
    banner = auditor.locator(".acknowledge-banner")
    expect(banner).to_contain_text("You have not yet acknowledged the policy in force")
    shot(auditor, "policy-01-banner")

    # The dashboard shows overseers who has not acknowledged: 4004 and 5005, not 3003.
    auditor.goto("/dashboard")
    section = _acknowledgements(auditor)
    expect(section).to_contain_text("Who has not acknowledged the policy")
    expect(section.locator("tbody tr")).to_have_count(2)
    expect(section).to_contain_text("4004")
    expect(section).to_contain_text("5005")
    assert "3003" not in section.inner_text()
    section.scroll_into_view_if_needed()
    shot(auditor, "policy-02-dashboard-unacknowledged")

    # The policy page: its text, clauses with their names, what does and does not violate each.
    auditor.locator(".acknowledge-banner").get_by_role("link", name="Read and acknowledge the policy").click()
    auditor.wait_for_url(f"{base}/policy")
    expect(auditor.locator("h1")).to_have_text(pack.policy.title)
    expect(auditor.locator("#pack-sha256")).to_have_text(pack.sha256)
    decorum = auditor.locator("#clause-A\\.i")
    expect(decorum.locator("h3")).to_contain_text("Decorum")
    expect(decorum).to_contain_text("Violates this clause")
    expect(decorum).to_contain_text("Does not violate it")
    expect(decorum).to_contain_text(pack.clause("A.i").does_not_violate[0])
    expect(auditor.locator(".acknowledge-banner")).to_have_count(0)  # not on the page it points to
    shot(auditor, "policy-03-page")

    # A wrong answer is refused on the server; the page keeps what was chosen.
    questions = quiz_for(pack, "5005")
    assert len(questions) == 3
    for n, q in enumerate(questions, 1):
        group = auditor.get_by_role("group", name=LEGEND.format(n=n))
        expect(group.locator("blockquote")).to_have_text(q.example)
        wanted = q.answer if n > 1 else next(o.value for o in q.options if o.value != q.answer)
        label = next(o.label for o in q.options if o.value == wanted)
        group.get_by_label(label, exact=True).check()
    auditor.get_by_role("button", name="I have read the policy and acknowledge it").click()
    expect(auditor.locator(".problem")).to_contain_text("2 of 3 answers are right and 3 are needed")
    expect(auditor.locator(".problem")).to_contain_text("question 1")
    second = auditor.get_by_role("group", name=LEGEND.format(n=2))
    expect(second.locator(f'input[value="{questions[1].answer}"]')).to_be_checked()
    shot(auditor, "policy-04-quiz-refused")

    # Right answers acknowledge it: the banner goes, and the dashboard no longer lists 5005.
    first = auditor.get_by_role("group", name=LEGEND.format(n=1))
    first.get_by_label(
        next(o.label for o in questions[0].options if o.value == questions[0].answer), exact=True
    ).check()
    auditor.get_by_role("button", name="I have read the policy and acknowledge it").click()
    expect(auditor.locator(".notice")).to_contain_text(f"you acknowledged {pack.version}")
    expect(auditor.locator("#acknowledged")).to_contain_text("3 of 3 quiz answers right")
    expect(auditor.get_by_role("button", name="I have read the policy and acknowledge it")).to_have_count(0)
    shot(auditor, "policy-05-acknowledged")
    auditor.goto("/dashboard")
    expect(auditor.locator(".acknowledge-banner")).to_have_count(0)
    section = _acknowledgements(auditor)
    expect(section.locator("tbody tr")).to_have_count(1)
    expect(section).to_contain_text("4004")
    assert "5005" not in section.inner_text()
    auditor.context.close()


def test_the_policy_page_on_a_phone_by_keyboard(demo_service: tuple[str, str], browser: Any) -> None:
    base, _ = demo_service
    pack = default_pack()
    reviewer = signed_in(browser, base, "4004", viewport={"width": 390, "height": 844})
    expect(reviewer.locator(".acknowledge-banner")).to_be_visible()
    reviewer.goto("/policy")
    assert reviewer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(reviewer, "policy-06-phone-390")
    for n, q in enumerate(quiz_for(pack, "4004"), 1):
        group = reviewer.get_by_role("group", name=LEGEND.format(n=n))
        radio = group.locator(f'input[value="{q.answer}"]')
        radio.focus()
        reviewer.keyboard.press("Space")
        expect(radio).to_be_checked()
    button = reviewer.get_by_role("button", name="I have read the policy and acknowledge it")
    button.focus()
    reviewer.keyboard.press("Enter")
    expect(reviewer.locator(".notice")).to_contain_text("you acknowledged")
    assert reviewer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(reviewer, "policy-07-phone-acknowledged")
    reviewer.goto("/dashboard")
    expect(reviewer.locator("#acknowledgements")).to_contain_text("Every active member has acknowledged it")
    shot(reviewer, "policy-08-phone-dashboard")
    reviewer.context.close()
