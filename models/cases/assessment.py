"""世帯全体のアセスメント: the whole household, as versions (an edit is a new version).

Everything a person wrote is encrypted at rest: the household members (relationship, age band,
concerns of each) as one EncryptedJSON value, and the strengths, risks, main issue and the
person's own wishes as EncryptedText. Nothing of it ever goes into a Slack message; the modal
that shows it is opened by an entitled member on request and each opening is audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.base.errors import DomainError
from models.cases.concerns import AGE_BANDS, CONCERN_BY_KEY
from models.cases.lifecycle import CaseState
from models.cases.records import record_event
from models.cases.tables import Assessment, Case
from models.org.tables import Member

MAX_MEMBERS = 6  # rows in the modal; a larger household is described in the main issue
RELATIONSHIP_LIMIT = 20
TEXT_LIMIT = 1000
TEXT_FIELDS = ("main_issue", "wishes", "strengths", "risks")


@dataclass
class HouseholdMember:
    relationship: str = ""  # 本人, 母, 長男 …
    age_band: str | None = None
    concerns: list[str] = field(default_factory=list)


@dataclass
class AssessmentInput:
    members: list[HouseholdMember] = field(default_factory=list)  # one per modal row
    main_issue: str = ""
    wishes: str | None = None
    strengths: str | None = None
    risks: str | None = None


def versions(session: Session, case_id: int) -> list[Assessment]:
    """Every version, newest first."""
    rows = session.exec(
        select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.version.desc())
    )
    return list(rows)


def latest(session: Session, case_id: int) -> Assessment | None:
    return session.exec(
        select(Assessment)
        .where(Assessment.case_id == case_id)
        .order_by(Assessment.version.desc())
        .limit(1)
    ).first()


def version_of(session: Session, case_id: int, version: int) -> Assessment:
    found = session.exec(
        select(Assessment).where(Assessment.case_id == case_id, Assessment.version == version)
    ).first()
    if found is None:
        raise DomainError("assessment.not_found")
    return found


def _filled(m: HouseholdMember) -> bool:
    return bool((m.relationship or "").strip() or m.age_band or m.concerns)


def validate(data: AssessmentInput) -> dict[str, str]:
    """Field -> message code. Row fields are named `relationship_N`, `age_band_N`, `concerns_N`
    (N from 1), the texts by their names — the modal uses the same names for its blocks."""
    errors: dict[str, str] = {}
    if len(data.members) > MAX_MEMBERS:
        errors["relationship_1"] = "assessment.error.too_many_members"
    rows = [(i, m) for i, m in enumerate(data.members, start=1) if _filled(m)]
    if not rows:
        errors["relationship_1"] = "assessment.error.member_required"
    for i, m in rows:
        relationship = (m.relationship or "").strip()
        if not relationship:
            errors[f"relationship_{i}"] = "assessment.error.relationship_required"
        elif len(relationship) > RELATIONSHIP_LIMIT:
            errors[f"relationship_{i}"] = "assessment.error.too_long"
        if m.age_band is not None and m.age_band not in AGE_BANDS:
            errors[f"age_band_{i}"] = "assessment.error.invalid_choice"
        if any(c not in CONCERN_BY_KEY for c in m.concerns):
            errors[f"concerns_{i}"] = "assessment.error.invalid_choice"
    if not (data.main_issue or "").strip():
        errors["main_issue"] = "assessment.error.main_issue_required"
    for name in TEXT_FIELDS:
        value = getattr(data, name)
        if value and len(value) > TEXT_LIMIT:
            errors[name] = "assessment.error.too_long"
    return errors


class AssessmentInvalid(DomainError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("assessment.invalid")
        self.errors = errors


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def record(
    session: Session,
    *,
    case: Case,
    member: Member,
    data: AssessmentInput,
    based_on: int | None,
    at: datetime,
) -> Assessment:
    """Store a new version. `based_on` is the version the editor started from (None: none);
    if someone saved another version meanwhile, refuse rather than overwrite their work."""
    if case.state in (CaseState.received, CaseState.closed):
        raise DomainError("assessment.not_now", number=case.number)
    errors = validate(data)
    if errors:
        raise AssessmentInvalid(errors)
    current = latest(session, case.id)
    current_version = current.version if current else None
    if current_version != based_on:
        raise DomainError("assessment.conflict", number=case.number)
    rows = [
        asdict(
            HouseholdMember(
                relationship=m.relationship.strip(),
                age_band=m.age_band,
                concerns=list(dict.fromkeys(m.concerns)),
            )
        )
        for m in data.members
        if _filled(m)
    ]
    entry = Assessment(
        case_id=case.id,
        version=(current_version or 0) + 1,
        members=rows,
        main_issue=data.main_issue.strip(),
        wishes=_clean(data.wishes),
        strengths=_clean(data.strengths),
        risks=_clean(data.risks),
        recorded_by_id=member.id,
        recorded_at=at,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        # Two editors saved the same version at the same moment: the other one won.
        raise DomainError("assessment.conflict", number=case.number) from None
    record_event(
        session,
        case,
        kind="assessment_recorded",
        actor_id=member.id,
        at=at,
        code=f"v{entry.version}",
    )
    return entry


def members_of(entry: Assessment) -> list[HouseholdMember]:
    return [HouseholdMember(**row) for row in entry.members or []]
