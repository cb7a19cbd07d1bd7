"""Reminder messages: rendered from the reminder row and its subject at send time.

One notice kind ("reminder") for every rule; each rule has a view here (or in its feature's
view module) registered with @reminder_view("rule"). A reminder that no longer applies when
its notice is about to be sent (the memo was taken meanwhile) is not sent at all.
The message carries pointers only: receipt numbers and coarse facts, never a person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement
from sqlmodel import Session

from handlers.common import ids
from handlers.common.blocks import context, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import has, label, t
from handlers.desk.case_views import domains_text, when
from handlers.notices.views import NotReady, Obsolete, Rendered, renders
from models.cases.records import summary
from models.org.tables import Member
from models.plans.tables import TaskState
from models.queues.reminders import follow_up_of
from models.queues.tables import Notice, NoticeState, Reminder, ReminderState
from reminders.deadlines import ack_deadline, calendar_for, reminder_settings
from reminders.dispatcher import LATE_AFTER
from reminders.memo import MEMO_ACK, MEMO_ACK_ESCALATION
from reminders.plans import TASK_DUE, TASK_OVERDUE, task_of
from reminders.rules import (
    ACKNOWLEDGE,
    DETAIL,
    DONE,
    SNOOZE_TOMORROW,
    SNOOZE_WEEK,
    case_of,
    rule_for,
)

# Action ids of the reminder buttons (handlers/reminders/listeners.py); value = reminder id.
ACTION_REMINDER_DONE = "reminder_done"
ACTION_REMINDER_SNOOZE_TOMORROW = "reminder_snooze_tomorrow"
ACTION_REMINDER_SNOOZE_WEEK = "reminder_snooze_week"
REMINDER_ACTIONS = {
    DONE: ACTION_REMINDER_DONE,
    SNOOZE_TOMORROW: ACTION_REMINDER_SNOOZE_TOMORROW,
    SNOOZE_WEEK: ACTION_REMINDER_SNOOZE_WEEK,
}
CHOICE_OF_ACTION = {action_id: choice for choice, action_id in REMINDER_ACTIONS.items()}


@dataclass(frozen=True)
class ReminderContent:
    """What a rule's view says: the notification text, the body, optional coarse facts."""

    text: str
    body: str
    facts: str | None = None
    case_id: int | None = None  # for 詳細を見る / 受付する
    buttons: tuple = ()  # a rule's own buttons (e.g. 接触を記録する), before the common ones


ReminderView = Callable[[Session, Reminder], ReminderContent]
REMINDER_VIEWS: dict[str, ReminderView] = {}


def reminder_view(rule: str) -> Callable[[ReminderView], ReminderView]:
    def register(fn: ReminderView) -> ReminderView:
        if rule in REMINDER_VIEWS:
            raise ValueError(f"two views for reminder rule {rule}")
        REMINDER_VIEWS[rule] = fn
        return fn

    return register


# --- the message ------------------------------------------------------------------------------


def _buttons(reminder: Reminder, actions: tuple[str, ...], case_id: int | None) -> list:
    buttons = []
    for action in actions:
        if action in REMINDER_ACTIONS:
            buttons.append(
                ButtonElement(
                    text=plain(t(f"reminder.button.{action}")),
                    action_id=REMINDER_ACTIONS[action],
                    value=str(reminder.id),
                    style="primary" if action == DONE else None,
                )
            )
        elif action == DETAIL and case_id is not None:
            buttons.append(
                ButtonElement(
                    text=plain(t("card.detail_button")),
                    action_id=ids.ACTION_CASE_DETAIL,
                    value=str(case_id),
                )
            )
        elif action == ACKNOWLEDGE and case_id is not None:
            buttons.append(
                ButtonElement(
                    text=plain(t("card.acknowledge_button")),
                    action_id=ids.ACTION_CASE_ACKNOWLEDGE,
                    value=str(case_id),
                    style="primary",
                )
            )
    return buttons


def _slack_id(session: Session, member_id: int | None) -> str | None:
    member = session.get(Member, member_id) if member_id else None
    return member.slack_id if member else None


def reminder_message(
    session: Session, reminder: Reminder, *, late_due: datetime | None
) -> tuple[str, list[dict]]:
    rule = rule_for(reminder.rule)
    view = REMINDER_VIEWS.get(reminder.rule)
    if rule is None or view is None:
        raise Obsolete(f"no view for reminder rule {reminder.rule}")
    content = view(session, reminder)
    blocks: list = [section(content.body)]
    if content.facts:
        blocks.append(context(content.facts))
    follow_up = follow_up_of(session, reminder.id)
    still_applies = rule.applies(session, reminder)
    if reminder.done_at is not None:
        who = _slack_id(session, reminder.done_by_id)
        blocks.append(context(t("reminder.done_by", user=who, when=when(reminder.done_at))))
    elif not still_applies:
        if reminder.rule in (MEMO_ACK, MEMO_ACK_ESCALATION):
            blocks.append(context(t("reminder.taken")))
        elif reminder.rule in (TASK_DUE, TASK_OVERDUE):
            blocks.extend(_task_ended(session, reminder))
    else:
        if follow_up is not None and follow_up.state == ReminderState.pending:
            who = _slack_id(session, follow_up.created_by_id)
            blocks.append(
                context(t("reminder.snoozed_by", user=who, when=when(follow_up.deliver_at)))
            )
        buttons = [*content.buttons, *_buttons(reminder, rule.actions, content.case_id)]
        if buttons:
            blocks.append(ActionsBlock(block_id=f"reminder:{reminder.id}", elements=buttons))
    if late_due:
        blocks.append(context(t("reminder.late", due=when(late_due))))
    return content.text, [b.to_dict() for b in blocks]


def _task_ended(session: Session, reminder: Reminder) -> list:
    """Why a task's reminder no longer asks for anything: the task is done or ended."""
    task = task_of(session, reminder)
    if task is None or task.state == TaskState.open:
        return []
    return [context(t("reminder.task_ended", state=t(f"plan.task_state.{task.state}")))]


@renders("reminder")
def _reminder(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    reminder = session.get(Reminder, notice.payload["reminder_id"])
    if reminder is None or reminder.state == ReminderState.cancelled:
        raise Obsolete("the reminder was cancelled")
    rule = rule_for(reminder.rule)
    if rule is None or not rule.applies(session, reminder):
        raise Obsolete("the reminder no longer applies")
    text, blocks = reminder_message(session, reminder, late_due=late_due)
    return Rendered(text=text, blocks=blocks)


@renders("reminder_refresh")
def _reminder_refresh(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
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
    text, blocks = reminder_message(
        session, reminder, late_due=original.due_at if was_late else None
    )
    return Rendered(
        text=text, blocks=blocks, update_ts=original.result_ts, channel=original.result_channel
    )


# --- the views of this rules ------------------------------------------------------------


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
    urgency = label("urgency", s.urgency)
    agency = escape(s.routed_agency)
    return ReminderContent(
        text=t(f"reminder.{key}.text", number=s.number, urgency=urgency),
        body=t(
            f"reminder.{key}.body",
            number=s.number,
            urgency=urgency,
            deadline=when(deadline),
            agency=agency,
        ),
        facts=t(
            "reminder.facts",
            domains=domains_text(s),
            age_band=label("age_band", s.age_band),
            agency=agency,
            received=when(s.created_at),
        ),
        case_id=case.id,
    )


@reminder_view(MEMO_ACK)
def _memo_ack(session: Session, reminder: Reminder) -> ReminderContent:
    return _memo_content(session, reminder, "memo_ack")


@reminder_view(MEMO_ACK_ESCALATION)
def _memo_ack_escalation(session: Session, reminder: Reminder) -> ReminderContent:
    return _memo_content(session, reminder, "memo_ack_escalation")


def subject_text(session: Session, reminder: Reminder) -> str:
    """ "ケース R8-0001", "会議 #12" …: how a message names what a reminder is about."""
    case = case_of(session, reminder)
    ref = case.number if case is not None else reminder.subject_id
    return t(f"reminder.subject.{reminder.subject_kind}", ref=escape(str(ref)))


@reminder_view("follow_up")
def _follow_up(session: Session, reminder: Reminder) -> ReminderContent:
    topic_key = str(reminder.payload.get("topic", "other"))
    topic = t(f"reminder.topic.{topic_key}") if has(f"reminder.topic.{topic_key}") else None
    topic = topic or t("reminder.topic.other")
    subject = subject_text(session, reminder)
    return ReminderContent(
        text=t("reminder.follow_up.text", subject=subject, topic=topic),
        body=t("reminder.follow_up.body", subject=subject, topic=topic, due=when(reminder.due_at)),
        case_id=None,
    )
