"""Outreach for the Link-net figures: counts only, by month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from models.linknet.periods import Month
from models.linknet.sql import month_index
from models.outreach.tables import (
    OPEN_TARGET_STATES,
    Contact,
    ContactOutcome,
    OutreachEvent,
    OutreachTarget,
    TargetState,
)


def figures(session: Session, *, since: datetime, until: datetime) -> dict[str, int]:
    """Counts for Link-net: targets active, contacts made, consents obtained (no labels)."""
    active = session.exec(
        select(func.count())
        .select_from(OutreachTarget)
        .where(OutreachTarget.state.in_([TargetState.active, TargetState.paused]))
    ).one()
    contacts = session.exec(
        select(func.count()).select_from(Contact).where(Contact.at >= since, Contact.at < until)
    ).one()
    consents = session.exec(
        select(func.count())
        .select_from(Contact)
        .where(Contact.at >= since, Contact.at < until, Contact.outcome == ContactOutcome.consented)
    ).one()
    return {"targets_active": active, "contacts": contacts, "consents": consents}


def targets_at_month_ends(session: Session, first: int, last: int) -> dict[tuple[str, int], int]:
    """Targets active / paused at the end of each month first..last (a Link-net stock).

    Replayed from the state changes (OutreachEvent) in two GROUP BY queries — entries into a
    state and exits from it per month; a month's stock is their running sum. Keys are
    (state, month index) as models/linknet/sources.py expects; missing keys mean 0.
    """

    end = Month.from_index(last).end
    month = month_index(OutreachEvent.at)
    moves: dict[int, dict[str, int]] = {}
    for column, sign in ((OutreachEvent.to_state, 1), (OutreachEvent.from_state, -1)):
        query = (
            select(column, month, func.count())
            .where(column.is_not(None), OutreachEvent.at < end)
            .group_by(column, month)
        )
        for state, m, n in session.exec(query):
            moves.setdefault(int(m), {}).setdefault(str(state), 0)
            moves[int(m)][str(state)] += sign * int(n)
    running = dict.fromkeys((s.value for s in OPEN_TARGET_STATES), 0)
    out: dict[tuple[str, int], int] = {}
    for m in range(min([*moves, first]), last + 1):
        for state, delta in moves.get(m, {}).items():
            if state in running:
                running[state] += delta
        if m >= first:
            out.update({(s, m): n for s, n in running.items() if n})
    return out
