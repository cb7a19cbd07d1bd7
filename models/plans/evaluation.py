"""評価: a plan is evaluated at its review date; the case is re-planned, closed or suspended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from models.base.errors import DomainError
from models.cases import casework
from models.cases.lifecycle import CaseState, can_move
from models.cases.tables import Case
from models.plans.outcomes import InputInvalid
from models.plans.tables import (
    NOTE_LIMIT,
    Decision,
    Evaluation,
    Plan,
    PlanTask,
)
from models.plans.tasks import end_case_tasks


def evaluate(
    session: Session, plan: Plan, *, result: Evaluation, note: str | None, at: datetime
) -> None:
    if plan.evaluation is not None:
        raise DomainError("plan.already_evaluated")
    if not plan.current:
        raise DomainError("plan.not_current")
    note = (note or "").strip() or None
    if note and len(note) > NOTE_LIMIT:
        raise InputInvalid({"note": "outcome.too_long"})
    plan.evaluation = Evaluation(result)
    plan.evaluation_note = note
    plan.evaluated_at = at
    session.add(plan)


@dataclass
class EvaluationResult:
    cancelled_tasks: list[PlanTask]
    moved_to: CaseState


def evaluate_and_decide(
    session: Session,
    *,
    plan: Plan,
    case: Case,
    member,
    result: str | None,
    note: str | None,
    decision: str | None,
    close_reason: str | None,
    at: datetime,
) -> EvaluationResult:
    """評価 at the review date, then: re-plan (まるごと会議), close (終結) or suspend (中断)."""

    errors = {}
    if result not in Evaluation.__members__:
        errors["result"] = "plan.choose_result"
    if decision not in Decision.__members__:
        errors["decision"] = "plan.choose_decision"
    if errors:
        raise InputInvalid(errors)
    if case.state not in (CaseState.support, CaseState.evaluation):
        raise DomainError("plan.not_in_support", number=case.number, state=case.state)
    evaluate(session, plan, result=Evaluation(result), note=note, at=at)
    plan.decision = decision
    if case.state == CaseState.support and can_move(CaseState.support, CaseState.evaluation):
        casework.advance(
            session, case=case, member=member, stage=CaseState.evaluation, note=None, at=at
        )
    cancelled: list[PlanTask] = []
    try:
        if decision == Decision.replan:
            casework.advance(
                session, case=case, member=member, stage=CaseState.marugoto, note=None, at=at
            )
        elif decision == Decision.close:
            casework.close(
                session, case=case, member=member, reason_code=close_reason, note=note, at=at
            )
            cancelled = end_case_tasks(session, case, at=at)
        else:
            casework.suspend(session, case=case, member=member, reason=note, at=at)
            cancelled = end_case_tasks(session, case, at=at)
    except casework.InputError as exc:
        fields = {"stage": "decision", "close_reason": "close_reason", "note": "note"}
        raise InputInvalid(
            {fields.get(name, "note"): code for name, code in exc.errors.items()}
        ) from None
    session.add(plan)
    return EvaluationResult(cancelled, CaseState(case.state))


def reviews_due(session: Session, *, on_or_before: date) -> list[Plan]:
    """Current plans of open cases whose review date has come and that are not evaluated yet (goals
    and notes are decrypted only if read: the desk lists hundreds by date and number)."""
    return list(
        session.exec(
            select(Plan)
            .options(defer(Plan.goals), defer(Plan.evaluation_note))
            .join(Case, Case.id == Plan.case_id)
            .where(Plan.current, Plan.evaluation.is_(None), Plan.review_on <= on_or_before)
            .where(Case.state.not_in([CaseState.closed, CaseState.suspended]))
            .order_by(Plan.review_on, Plan.id)
        )
    )
