"""Who may do what — the one table of rights, checked against the database on every action.

Role         | sees                                   | may do
------------ | -------------------------------------- | -------------------------------------
partner      | status of memos its agency sent         | send memos
window       | cases routed to / led by its agency     | send memos, take (受付) and view them
coordinator  | every case                             | everything on cases
support      | cases where its agency holds a task    | send memos, view those cases
department   | no case (Link-net figures only)         | send memos
admin        | no case; operations                    | send memos, operations
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from models.cases import Case
from models.org import Member, Role


class Action(StrEnum):
    send_memo = "send_memo"
    view_case_detail = "view_case_detail"  # personal details: always audited
    view_case_status = "view_case_status"
    acknowledge_case = "acknowledge_case"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # a message code when refused

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def _handles(member: Member, case: Case) -> bool:
    """The member's agency is where the case was routed or is its lead."""
    return member.agency_id in (case.routed_agency_id, case.lead_agency_id)


def decide(
    session: Session, member: Member | None, action: Action, case: Case | None = None
) -> Decision:
    del session  # kept in the signature: later rules (plan tasks) look rows up
    if member is None or not member.active:
        return Decision(False, "access.not_registered")
    if action is Action.send_memo:
        return ALLOW
    if case is None:
        return Decision(False, "case.not_found")
    if member.has(Role.coordinator):
        return ALLOW
    if action is Action.view_case_status:
        if _handles(member, case) and member.has(Role.window):
            return ALLOW
        if member.agency_id == case.referrer_agency_id:
            return ALLOW
        return Decision(False, "access.not_your_case")
    if action in (Action.view_case_detail, Action.acknowledge_case):
        if member.has(Role.window) and _handles(member, case):
            return ALLOW
        return Decision(False, "access.not_your_case")
    return Decision(False, "access.not_your_case")
