"""The buttons on reminder messages: 対応しました, 明日また, 1週間後.

Anyone in a channel can click, so each click is checked against the database: the member the
reminder is for, its team, the team handling its case, or the coordinator. A refusal changes
nothing, is answered only to the clicker and is written to the audit log.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.common.replies import allowed, attempt, require, tell
from handlers.common.services import services
from handlers.common.texts import t
from handlers.desk.case_views import when
from handlers.reminders.views import CHOICE_OF_ACTION, REMINDER_ACTIONS
from models.base.errors import DomainError
from models.cases.access import Action
from models.queues import reminders as store
from models.queues.tables import Reminder
from reminders.rules import DONE, case_of, rule_for
from reminders.schedule import snooze_reminder


def register(app: App) -> None:
    for action_id in REMINDER_ACTIONS.values():
        app.action(action_id)(answer_reminder)


def _reminder_id(body: dict) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def answer_reminder(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    choice = CHOICE_OF_ACTION[body["actions"][0]["action_id"]]
    action = Action.reminder_done if choice == DONE else Action.reminder_snooze
    reminder_id = _reminder_id(body)

    def work(session, user, now) -> tuple[str, int]:
        reminder = session.get(Reminder, reminder_id) if reminder_id else None
        case = case_of(session, reminder) if reminder is not None else None
        member = require(session, at=now, user=user, action=action, case=case, reminder=reminder)
        rule = rule_for(reminder.rule)
        if rule is None or choice not in rule.actions:
            raise DomainError("reminder.action_not_offered")
        if not rule.applies(session, reminder):
            raise DomainError("reminder.no_longer_needed")
        if choice == DONE:
            store.mark_done(session, reminder=reminder, by_member_id=member.id, at=now)
            text = t("reminder.done")
        else:
            follow_up = snooze_reminder(
                session, reminder=reminder, choice=choice, by_member_id=member.id, at=now
            )
            text = t("reminder.snoozed", when=when(follow_up.deliver_at))
        refreshed = store.refresh_messages(session, reminder=reminder, at=now)
        allowed(
            session,
            at=now,
            member=member,
            action=action,
            case_id=case.id if case else None,
            detail=f"reminder:{reminder.id}:{choice}",
        )
        return text, refreshed

    done = attempt(client, context, body, work)
    if done is None:
        return
    text, refreshed = done
    if refreshed:  # only the reminder's own messages change: no Home tab to redraw (not `act`)
        services(context).kick_delivery()
    tell(client, body, text)
