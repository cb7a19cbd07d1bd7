"""Pausing, resuming and closing a target: the reason (and, to resume, the next date).
Pure: data in, blocks out."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, modal_view, section
from handlers.common.texts import t
from handlers.outreach.views import date_input, free_text, line_text
from models.outreach.listing import TargetLine
from models.outreach.tables import REASON_LIMIT

STATE_KINDS = ("pause", "resume", "close")


def state_modal(x: TargetLine, kind: str, *, proposed: date) -> View:
    blocks: list = [
        section(line_text(x)),
        context(t(f"outreach.state.{kind}.intro")),
        free_text("reason", t(f"outreach.state.{kind}.reason"), limit=REASON_LIMIT),
    ]
    if kind == "resume":
        blocks.append(date_input("next_contact_on", proposed))
    return modal_view(
        ids.VIEW_OUTREACH_STATE,
        title=t(f"outreach.state.{kind}.title"),
        submit=t(f"outreach.state.{kind}.submit"),
        close=t("outreach.cancel"),
        metadata=forms.metadata(target_id=x.target_id, kind=kind),
        blocks=blocks,
    )
