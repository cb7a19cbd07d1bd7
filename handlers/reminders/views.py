"""Reminder messages. Pure: what handlers/reminders/notices.py read at send time, drawn.

One notice kind ("reminder") for every rule; each rule's reader says what its message says
(a ReminderContent, drawn by its feature's view) and this module adds the rest: the buttons
while it still applies, whether it is late. Once it has been acted on (対応しました, 明日また,
the memo taken, the task done, the contact recorded, the plan evaluated, the meeting cancelled)
the message is rewritten to one text saying what happened, who and when: no request to act, no
button left, no deadline.
The message carries pointers only: receipt numbers and coarse facts, never a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from handlers.common import ids
from handlers.common.blocks import context, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import has, label, t
from handlers.desk.case_views import domains_text, when
from models.cases.records import CaseSummary
from reminders.rules import ACKNOWLEDGE, DETAIL, DONE, SNOOZE_TOMORROW, SNOOZE_WEEK

# The buttons of the choices (handlers/reminders/listeners.py listens); value = reminder id.
REMINDER_ACTIONS = {
    DONE: ids.ACTION_REMINDER_DONE,
    SNOOZE_TOMORROW: ids.ACTION_REMINDER_SNOOZE_TOMORROW,
    SNOOZE_WEEK: ids.ACTION_REMINDER_SNOOZE_WEEK,
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
    subject: str = ""  # what it is about, for the text once acted on ("つなぎメモ *R8-0001*")
    outcome: str | None = None  # the rule's own account of what happened, once it happened


@dataclass(frozen=True)
class ReminderMessage:
    """A reminder's message as it stands: its content and what has happened to it since."""

    reminder_id: int
    content: ReminderContent
    actions: tuple[str, ...]  # what the rule offers (done, snooze…, detail, acknowledge)
    applies: bool  # False: nothing left to do, so no buttons
    done_by: str | None = None  # Slack user id of whoever answered 対応しました
    done_at: datetime | None = None
    snoozed_by: str | None = None  # a pending follow-up: who snoozed it, when, until when
    snoozed_at: datetime | None = None
    snoozed_until: datetime | None = None
    ended: tuple[str, str | None, datetime] | None = None  # (event, who, when): retire_sent
    late_due: datetime | None = None


def _buttons(m: ReminderMessage) -> list:
    buttons = []
    for action in m.actions:
        if action in REMINDER_ACTIONS:
            buttons.append(
                ButtonElement(
                    text=plain(t(f"reminder.button.{action}")),
                    action_id=REMINDER_ACTIONS[action],
                    value=str(m.reminder_id),
                    style="primary" if action == DONE else None,
                )
            )
        elif action == DETAIL and m.content.case_id is not None:
            buttons.append(
                ButtonElement(
                    text=plain(t("card.detail_button")),
                    action_id=ids.ACTION_CASE_DETAIL,
                    value=str(m.content.case_id),
                )
            )
        elif action == ACKNOWLEDGE and m.content.case_id is not None:
            buttons.append(
                ButtonElement(
                    text=plain(t("card.acknowledge_button")),
                    action_id=ids.ACTION_CASE_ACKNOWLEDGE,
                    value=str(m.content.case_id),
                    style="primary",
                )
            )
    return buttons


def _who(user: str | None) -> str:
    return t("reminder.outcome.who", user=user) if user else ""


def _finished(m: ReminderMessage) -> str | None:
    """The one text of a reminder acted on (None: it still asks for something)."""
    subject = m.content.subject or t("reminder.outcome.this")
    if m.content.outcome is not None:
        return m.content.outcome
    if m.done_at is not None:
        return t(
            "reminder.outcome.done", subject=subject, when=when(m.done_at), who=_who(m.done_by)
        )
    if m.ended is not None:
        event, user, at = m.ended
        return t(f"reminder.outcome.{event}", subject=subject, when=when(at), who=_who(user))
    if not m.applies:
        return t("reminder.outcome.not_needed", subject=subject)
    return None  # still asks (a snoozed one too: its buttons still move or close the follow-up)


def reminder_message(m: ReminderMessage) -> tuple[str, list[dict]]:
    content = m.content
    finished = _finished(m)
    if finished is not None:  # one coherent text: what happened, who, when; nothing to click
        blocks: list = [section(finished)]
        if content.facts:
            blocks.append(context(content.facts))
        return finished.replace("*", ""), [b.to_dict() for b in blocks]
    blocks = [section(content.body)]
    if content.facts:
        blocks.append(context(content.facts))
    if m.snoozed_until is not None:
        snoozed = t(
            "reminder.snoozed_by",
            when=when(m.snoozed_at or m.snoozed_until),
            who=_who(m.snoozed_by),
            until=when(m.snoozed_until),
        )
        blocks.append(context(snoozed))
    buttons = [*content.buttons, *_buttons(m)]
    if buttons:
        blocks.append(
            ActionsBlock(block_id=f"{ids.BLOCK_REMINDER}{m.reminder_id}", elements=buttons)
        )
    if m.late_due:
        blocks.append(context(t("reminder.late", due=when(m.late_due))))
    return content.text, [b.to_dict() for b in blocks]


# --- the contents of this package's rules -------------------------------------------------------


def memo_content(
    s: CaseSummary, key: str, *, deadline: datetime | None, outcome: str | None = None
) -> ReminderContent:
    """Take the memo (受付する): the receipt number, urgency, window and coarse facts; once
    taken (`outcome`), who took it and when instead, and no deadline."""
    urgency = label("urgency", s.urgency)
    agency = escape(s.routed_agency)
    body = outcome or t(
        f"reminder.{key}.body",
        number=s.number,
        urgency=urgency,
        deadline=when(deadline),
        agency=agency,
    )
    return ReminderContent(
        text=t(f"reminder.{key}.text", number=s.number, urgency=urgency),
        body=body,
        subject=t("reminder.subject_of.memo", number=s.number),
        outcome=outcome,
        facts=t(
            "reminder.facts",
            domains=domains_text(s),
            age_band=label("age_band", s.age_band),
            agency=agency,
            received=when(s.created_at),
        ),
        case_id=s.case_id,
    )


def subject_text(subject_kind: str, ref: object) -> str:
    """ "ケース R8-0001", "会議 #12" …: how a message names what a reminder is about."""
    return t(f"reminder.subject.{subject_kind}", ref=escape(str(ref)))


def follow_up_content(subject: str, topic_key: str, *, due: datetime) -> ReminderContent:
    topic = t(f"reminder.topic.{topic_key}") if has(f"reminder.topic.{topic_key}") else None
    topic = topic or t("reminder.topic.other")
    return ReminderContent(
        text=t("reminder.follow_up.text", subject=subject, topic=topic),
        body=t("reminder.follow_up.body", subject=subject, topic=topic, due=when(due)),
        case_id=None,
    )
