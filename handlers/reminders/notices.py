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
from models.cases.records import summary
from models.org.tables import Member
from models.plans.tables import TaskState
from models.queues.reminders import follow_up_of
from models.queues.tables import Notice, NoticeState, Reminder, ReminderState
from reminders.deadlines import ack_deadline, calendar_for, reminder_settings
from reminders.dispatcher import LATE_AFTER
from reminders.memo import MEMO_ACK, MEMO_ACK_ESCALATION
from reminders.plans import TASK_DUE, TASK_OVERDUE, task_of
from reminders.rules import case_of, rule_for

# A reminder rule's reader: what its message says (this module reads and draws the rest).
ContentReader = Callable[[Session, Reminder], ReminderContent]


def _slack_id(session: Session, member_id: int | None) -> str | None:
    member = session.get(Member, member_id) if member_id else None
    return member.slack_id if member else None


def _task_ended(session: Session, reminder: Reminder) -> str | None:
    """How a task ended, where its reminder no longer asks for anything (None: still open)."""
    task = task_of(session, reminder)
    if task is None or task.state == TaskState.open:
        return None
    return task.state


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
    if reminder.done_at is not None:
        found.update(done_by=_slack_id(session, reminder.done_by_id), done_at=reminder.done_at)
    elif not applies:
        if reminder.rule in (MEMO_ACK, MEMO_ACK_ESCALATION):
            found["taken"] = True
        elif reminder.rule in (TASK_DUE, TASK_OVERDUE):
            found["task_ended"] = _task_ended(session, reminder)
    elif follow_up is not None and follow_up.state == ReminderState.pending:
        found.update(
            snoozed_by=_slack_id(session, follow_up.created_by_id),
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


def _memo_content(session: Session, reminder: Reminder, key: str) -> ReminderContent:
    case = case_of(session, reminder)
    if case is None:
        raise Obsolete("the case is gone")
    s = summary(session, case)
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
