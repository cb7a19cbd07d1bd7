"""Pausing, resuming and closing a target (the buttons of the target's modal): the reason is
asked for, the reminders follow the new state."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from handlers.common import forms, ids
from handlers.common.replies import int_or_none, open_modal
from handlers.common.texts import t
from handlers.outreach import views
from handlers.outreach.checks import audit_allowed, checked, proposed, submit_form
from handlers.outreach.state_views import STATE_KINDS, state_modal
from models.base.errors import DomainError
from models.cases.access import OutreachAction
from models.outreach import targets as domain
from models.outreach.dates import today
from models.outreach.listing import lines
from reminders.outreach import schedule_for

STATE_ACTIONS = {
    ids.ACTION_OUTREACH_PAUSE: "pause",
    ids.ACTION_OUTREACH_RESUME: "resume",
    ids.ACTION_OUTREACH_CLOSE: "close",
}


def open_state(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    kind = STATE_ACTIONS[body["actions"][0]["action_id"]]
    right = OutreachAction.close if kind == "close" else OutreachAction.pause
    target_id = int_or_none(body["actions"][0].get("value"))

    def build(session, user, now):
        _, target = checked(session, at=now, user=user, action=right, target_id=target_id)
        line = lines(session, [target], day=today(now))[0]
        return state_modal(line, kind, proposed=proposed(session, target, now))

    open_modal(client, context, body, build)


def submit_state(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meta = forms.read_metadata(view.get("private_metadata"))
    kind = meta.get("kind") if meta.get("kind") in STATE_KINDS else None
    right = OutreachAction.close if kind == "close" else OutreachAction.pause
    reason = forms.value(view, "reason")

    def work(session, user, now):
        member, target = checked(
            session, at=now, user=user, action=right, target_id=int_or_none(meta.get("target_id"))
        )
        if kind == "pause":
            domain.pause(session, target, reason=reason, by=member, at=now)
        elif kind == "resume":
            domain.resume(
                session,
                target,
                reason=reason,
                next_contact_on=forms.date_value(view, "next_contact_on"),
                by=member,
                at=now,
            )
        elif kind == "close":
            domain.close(session, target, reason=reason, by=member, at=now)
        else:
            raise DomainError("outreach.not_found")
        schedule_for(session, target, at=now)
        audit_allowed(session, at=now, member=member, action=right, target=target)
        day = views.day(target.next_contact_on)
        return views.done_modal(t(f"outreach.done.{kind}", label=target.label, day=day))

    submit_form(ack, client, context, body, view, work)
