"""Reminder rules: what a kind of reminder means — whether it still applies, what follows it.

A Reminder row names its rule (`Reminder.rule`). The dispatcher asks the rule, at the moment
the reminder falls due, whether it still applies (a memo already taken needs no reminder); the
notice renderer of handlers/reminders/views.py draws the message of that rule. A feature adds
its rules in its own module under reminders/, which registers them when it is imported:

    FOLLOW_UP = register(Rule("plan_review", applies=plan_still_open, actions=(DONE, SNOOZE_WEEK)))

This module only keeps the registry; it imports none of those modules. The wiring imports them
at start-up (bot/scheduler.py, REMINDER_MODULES), so a new rule module is listed there.

Rules hold no Slack and no text: the view decides how a rule looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models.cases.lifecycle import OPEN_STATES, CaseState
from models.cases.tables import Case
from models.queues.tables import Recipient, Reminder, SubjectKind

# What the person who gets a reminder may answer with (buttons, in this order).
DONE = "done"  # 対応しました
SNOOZE_TOMORROW = "snooze_tomorrow"  # 明日また: the next business day's opening
SNOOZE_WEEK = "snooze_week"  # 1週間後
ACKNOWLEDGE = "acknowledge"  # 受付する (memo reminders: the real answer is to take the memo)
DETAIL = "detail"  # 詳細を見る (for those entitled; the handler checks)
ALL_ACTIONS = (DONE, SNOOZE_TOMORROW, SNOOZE_WEEK, ACKNOWLEDGE, DETAIL)

Applies = Callable[[Session, Reminder], bool]
AfterSent = Callable[[Session, Reminder, datetime], None]
RecipientNow = Callable[[Session, Reminder], Recipient | None]


def always(session: Session, reminder: Reminder) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Applies = always  # checked at dispatch (and again when the message is rendered)
    after_sent: AfterSent | None = None  # e.g. schedule the next escalation
    # Who it goes to, decided when it is sent (e.g. the team a memo is routed to *now*, after a
    # つなぎ直し); None: the recipient stored on the row.
    recipient: RecipientNow | None = None
    actions: tuple[str, ...] = (DONE, SNOOZE_TOMORROW, SNOOZE_WEEK)

    def __post_init__(self) -> None:
        unknown = set(self.actions) - set(ALL_ACTIONS)
        if unknown:
            raise ValueError(f"rule {self.name}: unknown actions {sorted(unknown)}")


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.name in RULES:
        raise ValueError(f"two reminder rules named {rule.name}")
    RULES[rule.name] = rule
    return rule


def rule_for(name: str) -> Rule | None:
    return RULES.get(name)


def case_of(session: Session, reminder: Reminder) -> Case | None:
    """The case a reminder is about (None for other subjects, or a case that is gone)."""
    if reminder.subject_kind != SubjectKind.case:
        return None
    try:
        return session.get(Case, int(reminder.subject_id))
    except ValueError:
        return None


def case_is_open(session: Session, reminder: Reminder) -> bool:
    """For case subjects: the case exists and is not closed or suspended. Others: True."""
    if reminder.subject_kind != SubjectKind.case:
        return True
    case = case_of(session, reminder)
    return case is not None and CaseState(case.state) in OPEN_STATES


# A plain reminder about something: "please look at this", answered with 対応しました or a snooze.
# Payload: {"topic": <a key of the reminder.topic texts>}. Later features add richer rules.
FOLLOW_UP = register(Rule("follow_up", applies=case_is_open))
