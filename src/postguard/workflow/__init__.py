"""The review workflow: draft -> checked -> submitted -> approved or returned (-> published)."""

from postguard.workflow.service import STATES, Workflow, draft_dict

__all__ = ["STATES", "Workflow", "draft_dict"]
