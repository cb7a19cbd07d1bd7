"""The case state machine (DESIGN.md → Case lifecycle). Every transition is recorded."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    received = "received"  # a memo waiting for someone to take it
    window = "window"  # a window took it (one domain)
    coordination = "coordination"  # the coordinator has it
    assessment = "assessment"
    saponet = "saponet"  # discussed without consent (支援会議)
    marugoto = "marugoto"  # with consent (重層的支援会議)
    support = "support"  # plan running, monitoring
    evaluation = "evaluation"
    closed = "closed"
    suspended = "suspended"


S = CaseState
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.received: frozenset({S.window, S.coordination}),
    S.window: frozenset({S.coordination, S.closed, S.suspended}),
    S.coordination: frozenset({S.assessment, S.closed, S.suspended}),
    S.assessment: frozenset({S.saponet, S.marugoto, S.closed, S.suspended}),
    S.saponet: frozenset({S.marugoto, S.support, S.closed, S.suspended}),
    S.marugoto: frozenset({S.support, S.saponet, S.closed, S.suspended}),
    S.support: frozenset({S.evaluation, S.saponet, S.closed, S.suspended}),
    S.evaluation: frozenset({S.marugoto, S.support, S.closed, S.suspended}),
    S.closed: frozenset(),
    S.suspended: frozenset({S.coordination, S.window}),
}
OPEN_STATES = frozenset(s for s in CaseState if s not in (S.closed, S.suspended))


def can_move(current: CaseState, target: CaseState) -> bool:
    return target in TRANSITIONS[current]
