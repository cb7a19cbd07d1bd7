"""Reminder messages at send time: the reminder row, its subject and its rule, read from the
database as they are then and drawn by handlers/reminders/views.py.

A reminder that no longer applies when its notice is about to be sent (the memo was taken
meanwhile) is not sent at all (Obsolete); a message already posted is updated to say why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session

from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.notices.readers import Renderer
from handlers.notices.views import NotReady, Obsolete, Rendered
from handlers.reminders.views import (
    ReminderContent,
    ReminderMessage,
    follow_up_content,
    memo_content,
    reminder_message,
    subject_text,
)
from models.cases.lifecycle import CaseState
from models.cases.records import events_of, summary
from models.cases.tables import Case
from models.org.tables import Member
from models.queues.reminders import ended_by, follow_up_of
from models.queues.tables import Notice, NoticeState, Reminder, ReminderState
from reminders.deadlines import ack_deadline, calendar_for, reminder_settings
from reminders.dispatcher import LATE_AFTER
from reminders.memo import MEMO_ACK, MEMO_ACK_ESCALATION
from reminders.rules import case_of, rule_for

# A reminder rule's reader: what its message says (this module reads and draws the rest).
ContentReader = Callable[[Session, Reminder], ReminderContent]


def _slack_id(session: Session, member_id: int | None) -> str | None:
    member = session.get(Member, member_id) if member_id else None
    return member.slack_id if member else None


def read_message(
    session: Session,
    reminder: Reminder,
    *,
    late_due: datetime | None,
    contents: dict[str, ContentReader],
) -> ReminderMessage:
    rule = rule_for(reminder.rule)
    reader = contents.get(reminder.rule)
    if rule is None or reader is None:
        raise Obsolete(f"no view for reminder rule {reminder.rule}")
    content = reader(session, reminder)
    follow_up = follow_up_of(session, reminder.id)
    applies = rule.applies(session, reminder)
    found = dict(
        reminder_id=reminder.id,
        content=content,
        actions=rule.actions,
        applies=applies,
        late_due=late_due,
    )
    ended = ended_by(reminder)
    if reminder.done_at is not None:
        found.update(done_by=_slack_id(session, reminder.done_by_id), done_at=reminder.done_at)
    elif ended is not None:
        event, by_id, at = ended
        found["ended"] = (event, _slack_id(session, by_id), at)
    elif applies and follow_up is not None:  # 明日また / 1週間後: the follow-up asks again
        found.update(
            snoozed_by=_slack_id(session, follow_up.created_by_id),
            snoozed_at=follow_up.created_at,
            snoozed_until=follow_up.deliver_at,
        )
    return ReminderMessage(**found)


@dataclass(frozen=True)
class ReminderNotices:
    """The reminder notices, each rule's content read by its reader in `contents`."""

    contents: dict[str, ContentReader]

    def message(self, session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
        reminder = session.get(Reminder, notice.payload["reminder_id"])
        if reminder is None or reminder.state == ReminderState.cancelled:
            raise Obsolete("the reminder was cancelled")
        rule = rule_for(reminder.rule)
        if rule is None or not rule.applies(session, reminder):
            raise Obsolete("the reminder no longer applies")
        found = read_message(session, reminder, late_due=late_due, contents=self.contents)
        text, blocks = reminder_message(found)
        return Rendered(text=text, blocks=blocks)

    def refresh(self, session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
        """chat.update of a reminder message after 対応しました / 明日また (its current state)."""
        original = session.get(Notice, notice.payload["notice_id"])
        if original is None or original.state in (NoticeState.failed, NoticeState.cancelled):
            raise Obsolete("the reminder message was never posted")
        if original.state != NoticeState.sent:
            raise NotReady("the reminder message is not posted yet")
        reminder = session.get(Reminder, notice.payload["reminder_id"])
        if reminder is None:
            raise Obsolete("the reminder is gone")
        was_late = original.sent_at and original.sent_at - original.due_at > LATE_AFTER
        late = original.due_at if was_late else None
        found = read_message(session, reminder, late_due=late, contents=self.contents)
        text, blocks = reminder_message(found)
        return Rendered(
            text=text, blocks=blocks, update_ts=original.result_ts, channel=original.result_channel
        )


def notices(contents: dict[str, ContentReader]) -> dict[str, Renderer]:
    """The reminder notices, drawing each rule's content with its reader in `contents`."""
    reminders = ReminderNotices(contents)
    return {"reminder": reminders.message, "reminder_refresh": reminders.refresh}


# --- this package's rules: the memo waiting to be taken, and the follow-up ---------------------


def _memo_outcome(session: Session, case: Case) -> str | None:
    """Who took the memo and when, or who moved it on (None: it still waits)."""
    number = case.number
    if case.acknowledged_at is not None:
        who = who_text(session, case.acknowledged_by_id)
        return t(
            "reminder.outcome.memo_taken", number=number, when=when(case.acknowledged_at), who=who
        )
    if case.state == CaseState.received:
        return None
    moved = [e for e in events_of(session, case.id) if e.to_state == case.state]
    at = moved[-1].at if moved else case.state_since or case.created_at
    who = who_text(session, moved[-1].actor_id if moved else None)
    state = label("state", case.state)
    return t("reminder.outcome.memo_moved", number=number, state=state, when=when(at), who=who)


def who_text(session: Session, member_id: int | None) -> str:
    """ "<@U…>さんが" for a member (empty when unknown): the who of an outcome text."""
    user = _slack_id(session, member_id)
    return t("reminder.outcome.who", user=user) if user else ""


def _memo_content(session: Session, reminder: Reminder, key: str) -> ReminderContent:
    case = case_of(session, reminder)
    if case is None:
        raise Obsolete("the case is gone")
    s = summary(session, case)
    outcome = _memo_outcome(session, case)
    if outcome is not None:  # taken or moved on: the deadline is no longer worked out at all
        return memo_content(s, key, deadline=None, outcome=outcome)
    settings = reminder_settings(session)
    since = case.state_since or case.created_at  # the current wait (a つなぎ直し starts anew)
    deadline = ack_deadline(
        calendar_for(session), received_at=since, urgency=s.urgency, rules=settings.ack
    )
    return memo_content(s, key, deadline=deadline)


def _subject(session: Session, reminder: Reminder) -> str:
    case = case_of(session, reminder)
    ref = case.number if case is not None else reminder.subject_id
    return subject_text(reminder.subject_kind, ref)


def _follow_up(session: Session, reminder: Reminder) -> ReminderContent:
    topic_key = str(reminder.payload.get("topic", "other"))
    return follow_up_content(_subject(session, reminder), topic_key, due=reminder.due_at)


REMINDERS: dict[str, ContentReader] = {
    MEMO_ACK: partial(_memo_content, key="memo_ack"),
    MEMO_ACK_ESCALATION: partial(_memo_content, key="memo_ack_escalation"),
    "follow_up": _follow_up,
}
