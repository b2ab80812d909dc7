"""The review workflow on SQLite and PostgreSQL: every rule, every step audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import World, connected_account
from postguard import default_checker
from postguard.checks import Checker
from postguard.checks.model.inference import default_model
from postguard.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from postguard.policy.loader import load_pack
from postguard.workflow import Workflow

ACCOUNT = "mastodon:@police@social.example"  # connected: a draft is submitted only to such
CLEAN = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."
GUILTY = "We got our man! He was arrested at his home in Northfield this morning."
VICTIM = "The victim, Shanice Morgan, is recovering in hospital. Thank you to the public for their help."


@pytest.fixture
def flow(world: World) -> Workflow:
    world.registry.add_member("IT-1", service_number="REV-2", name="Second Reviewer", roles=[])
    world.registry.grant_roles("CP-1", "REV-2", "reviewer")
    connected_account(world, ACCOUNT)
    connected_account(world, "x:@police", "webhook")
    return Workflow(world.registry, world.grants, default_checker())


def _actions(world: World, code: str) -> list[str]:
    with world.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT action FROM audit_entry WHERE target = :t ORDER BY seq"), {"t": f"draft:{code}"}
        ).all()
    return [r[0] for r in rows]


def test_draft_to_approval_with_a_return_in_between(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=GUILTY, account=ACCOUNT)
    assert draft.state == "checked" and {f["clause"] for f in draft.report["findings"]} >= {"A.iii.guilt"}
    flow.submit("PIO-1", draft.code, device="PC-1")
    returned = flow.return_("REV-1", draft.code, comment="Do not call him guilty before a verdict.")
    assert returned.state == "returned"
    flow.edit("PIO-1", draft.code, text="A 30-year-old man has been charged with robbery of the corner shop.")
    flow.submit("PIO-1", draft.code, device="PC-1")
    approved = flow.approve("REV-1", draft.code)
    assert approved.state == "approved"
    record = flow.get(draft.code)
    assert [r["action"] for r in record["reviews"]] == ["return", "approve"]
    assert _actions(world, draft.code) == [
        "draft.create",
        "draft.submit",
        "review.return",
        "draft.edit",
        "draft.submit",
        "review.approve",
    ]


def test_no_one_approves_their_own_post(flow: Workflow, world: World) -> None:
    world.registry.grant_roles("CP-1", "PIO-1", "reviewer")
    draft = flow.create("PIO-1", text=CLEAN, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(AccessDeniedError, match="own post"):
        flow.approve("PIO-1", draft.code)


def _review_only_flow(world: World, tmp_path: Path) -> Workflow:
    """A workflow whose pack sends every finding to a reviewer (none blocks)."""
    pack = tmp_path / "review-only.yaml"
    pack.write_text(
        "extends: default\ndecision_rules:\n  - {name: any, applies_to: finding, decision: review}\n",
        encoding="utf-8",
    )
    return Workflow(world.registry, world.grants, Checker(load_pack(pack), default_model()))


def test_findings_for_review_need_a_recorded_reason(world: World, tmp_path: Path) -> None:
    flow = _review_only_flow(world, tmp_path)
    draft = flow.create("PIO-1", text=GUILTY, account=connected_account(world, ACCOUNT))
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ValidationError, match="record why"):
        flow.approve("REV-1", draft.code)
    assert flow.approve("REV-1", draft.code, reason="Quoting the court's own words.").state == "approved"


def test_a_blocking_finding_is_not_approved_with_a_reason(flow: Workflow, world: World) -> None:
    """Issue 11, item 4: one reviewer approved 'We got our man!' with the reason 'ok'."""
    draft = flow.create("PIO-1", text=GUILTY, account=ACCOUNT)
    assert draft.report["decision"] == "block"
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ValidationError, match="blocks the post"):
        flow.approve("REV-1", draft.code, reason="ok")
    assert flow.get(draft.code)["state"] == "submitted"


def test_a_confirmed_dispute_clears_a_blocking_finding(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=GUILTY, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(AccessDeniedError, match=r"may not review\.dispute"):
        flow.dispute("PIO-1", draft.code, clause="A.iii.guilt", reason="it is mine")
    with pytest.raises(ValidationError, match="reason"):
        flow.dispute("REV-1", draft.code, clause="A.iii.guilt", reason=" ")
    with pytest.raises(NotFoundError):
        flow.dispute("REV-1", draft.code, clause="A.iv.political", reason="no such finding")
    dispute = flow.dispute(
        "REV-1", draft.code, clause="A.iii.guilt", reason="A quote of the court's verdict."
    )
    with pytest.raises(ConflictError, match="disputed already"):
        flow.dispute("REV-2", draft.code, clause="A.iii.guilt", reason="again")
    with pytest.raises(ValidationError, match="blocks the post"):  # disputed, not yet confirmed
        flow.approve("REV-1", draft.code, reason="see my dispute")
    with pytest.raises(AccessDeniedError, match="raised this dispute"):
        flow.confirm_dispute("REV-1", draft.code, dispute.id)
    with pytest.raises(AccessDeniedError):  # the author holds no review role
        flow.confirm_dispute("PIO-1", draft.code, dispute.id)
    flow.confirm_dispute("CP-1", draft.code, dispute.id)
    with pytest.raises(ConflictError, match="confirmed already"):
        flow.confirm_dispute("REV-2", draft.code, dispute.id)
    assert flow.approve("REV-1", draft.code).state == "approved"
    record = flow.get(draft.code)
    assert record["disputes"][0]["confirmed_by"] == "CP-1" and record["disputes"][0]["disputed_by"] == "REV-1"
    assert _actions(world, draft.code)[-3:] == ["review.dispute", "review.confirm-dispute", "review.approve"]


def test_a_dispute_belongs_to_its_submission(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=GUILTY, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    dispute = flow.dispute("REV-1", draft.code, clause="A.iii.guilt", reason="a quote")
    flow.return_("REV-2", draft.code, comment="Reword it anyway.")
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ConflictError, match="earlier submission"):
        flow.confirm_dispute("REV-2", draft.code, dispute.id)
    with pytest.raises(ValidationError, match="blocks the post"):
        flow.approve("REV-2", draft.code, reason="it was disputed before")


def test_confidential_material_is_not_disputed_and_needs_a_scoped_release(
    flow: Workflow, world: World
) -> None:
    draft = flow.create("PIO-1", text=VICTIM, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ValidationError, match="confidential-release"):
        flow.approve("REV-1", draft.code, reason="family consented")
    with pytest.raises(ValidationError, match="not by a dispute"):
        flow.dispute("REV-1", draft.code, clause="A.iii.confidential", reason="the family agreed")
    with pytest.raises(ValidationError, match="no permission CP-2026-0999"):
        flow.approve("REV-1", draft.code, reason="family consented", permission="CP-2026-0999")
    code = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="PIO-1",
        post=draft.code,
        reason="family asked",
        text_="The victim may be named.",
    ).code
    assert flow.approve("REV-1", draft.code, reason="family consented", permission=code).state == "approved"
    with world.db.engine.connect() as conn:
        used = conn.execute(
            sa.text("SELECT detail FROM audit_entry WHERE action = 'permission.used' AND target = :t"),
            {"t": f"permission:{code}"},
        ).scalar_one()
    assert draft.code in str(used)


def test_clause_c_on_the_submitting_device(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=CLEAN, account=ACCOUNT)
    submitted = flow.submit("PIO-1", draft.code, device="IMEI-1")
    assert any(f["clause"] == "C" for f in submitted.report["findings"])
    with pytest.raises(ValidationError, match="clause C"):
        flow.approve("REV-1", draft.code, reason="urgent")
    world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="personal-device",
        member="PIO-1",
        device="IMEI-1",
        reason="on call",
        text_="May use the phone for the department's accounts.",
    )
    flow.return_("REV-1", draft.code, comment="Resubmit now that your device is covered.")
    resubmitted = flow.submit("PIO-1", draft.code, device="IMEI-1")
    assert (
        not resubmitted.report["findings"]
        and "written permission" in resubmitted.report["advice"][0]["explanation"]
    )
    assert flow.approve("REV-1", draft.code).state == "approved"


def test_an_account_can_require_a_second_approval(world: World) -> None:
    world.registry.add_member("IT-1", service_number="REV-2", name="Second Reviewer", roles=[])
    world.registry.grant_roles("CP-1", "REV-2", "reviewer")
    connected_account(world, "x:@police", "webhook")
    checker = default_checker()
    pack = checker.pack.model_copy(
        update={
            "workflow": checker.pack.workflow.model_copy(update={"second_approval_accounts": ("x:@police",)})
        }
    )
    from postguard.checks.engine import Checker

    flow = Workflow(world.registry, world.grants, Checker(pack, checker.scorer))
    draft = flow.create("PIO-1", text=CLEAN, account="x:@police")
    flow.submit("PIO-1", draft.code, device="PC-1")
    assert flow.approve("REV-1", draft.code).state == "submitted"
    with pytest.raises(ConflictError, match=r"approved .* already"):
        flow.approve("REV-1", draft.code)
    assert flow.approve("REV-2", draft.code).state == "approved"
    approvals = [r["reviewer"] for r in flow.get(draft.code)["reviews"] if r["action"] == "approve"]
    assert approvals == ["REV-1", "REV-2"]


def test_a_submission_not_approved_in_time_expires_visibly(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=CLEAN, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)
    assert flow.expire_overdue(later) == [draft.code]
    assert flow.get(draft.code)["state"] == "expired"
    assert _actions(world, draft.code)[-1] == "draft.expire"
    with pytest.raises(ConflictError, match="expired"):
        flow.approve("REV-1", draft.code)


def test_only_the_author_edits_and_states_are_enforced(flow: Workflow) -> None:
    draft = flow.create("PIO-1", text=CLEAN, account=ACCOUNT)
    with pytest.raises(AccessDeniedError):
        flow.create("REV-1", text=CLEAN)  # a reviewer is not an author
    with pytest.raises(ConflictError, match="checked"):
        flow.approve("REV-1", draft.code)  # not submitted yet
    with pytest.raises(ValidationError, match="comment"):
        flow.return_("REV-1", draft.code, comment=" ")
    with pytest.raises(ValidationError, match="platform:handle"):
        flow.create("PIO-1", text=CLEAN, account="mastodon")
