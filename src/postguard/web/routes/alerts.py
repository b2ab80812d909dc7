"""The watch's alerts: /api/v1/alerts (issue 14).

Reviewers, the Commissioner and the auditor read them; reviewers and the Commissioner
acknowledge them, with a note. The rules (once only, the note, the audit entry) live in
:mod:`postguard.watch.alerts`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from postguard.registry.tokens import TokenHolder
from postguard.watch.alerts import NOTE_MAX, acknowledge, alerts, get_alert, open_count
from postguard.web.deps import ServiceDep, require

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
ReaderDep = Annotated[TokenHolder, require("alert.read")]
AcknowledgerDep = Annotated[TokenHolder, require("alert.acknowledge")]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(
        min_length=1,
        max_length=NOTE_MAX,
        description="What was done about the alert (who was told, whether the post was taken down).",
    )


@router.get("", summary="The watch's alerts, open ones first (open=true: only those)")
def list_alerts(
    state: ServiceDep,
    caller: ReaderDep,
    open: Annotated[bool, Query(description="Only the alerts not yet acknowledged.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    return {
        "open": open_count(state.registry),
        "alerts": alerts(state.registry, open_only=open, limit=limit),
    }


@router.get("/{alert_id}", summary="One alert, with its post and each channel's delivery")
def one_alert(alert_id: int, state: ServiceDep, caller: ReaderDep) -> dict[str, Any]:
    return get_alert(state.registry, alert_id)


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert, saying what was done")
def acknowledge_alert(
    alert_id: int, body: AcknowledgeIn, state: ServiceDep, caller: AcknowledgerDep
) -> dict[str, Any]:
    """Once only (a second time: 409); a blank note: 422."""
    return acknowledge(state.registry, caller.service_number, alert_id, body.note)
