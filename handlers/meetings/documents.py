"""Agendas and minutes, rendered from the Jinja2 templates in handlers/meetings/templates/.

The town may edit the templates without touching code. Values passed in are plain data (the
receipt number and coarse facts for agendas; the recorded outcomes for minutes), so a template
cannot reach anything it was not given. A Link-net meeting's agenda and minutes are given no
case at all — only its topics, its notes and the figures already published to the departments.

Values a template may use:
- agenda_*.md.j2:   meeting.{title, when, place, attendee_count}, cases[].{number, domains,
                    age_band, state} (さぽネット・まるごと), topics[], figures.{period, lines[]}
                    (リンクネット; may be empty)
- minutes_case_meeting.md.j2: meeting.*, recorded_by, outcomes[].{number, domains, direction,
                    lead, next_step, review_on, goals[], plan_version, tasks[].{agency, what,
                    due_on, resource}, erased} — an erased case's outcome (models.retention)
                    keeps its receipt number and coarse facts; its direction says it was
                    erased, its goals and tasks are empty
- minutes_linknet.md.j2: meeting.*, topics[], notes[], figures
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlmodel import Session, select

from handlers.common.texts import label, t
from models.base.clock import TOKYO

_env = Environment(
    loader=PackageLoader("handlers.meetings", "templates"),
    undefined=StrictUndefined,  # a typo in a template fails loudly instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # Markdown text; it is shown in Slack as plain_text, never as mrkdwn
)
WEEKDAYS = "月火水木金土日"


def agenda(kind: str, **values: object) -> str:
    return _env.get_template(f"agenda_{kind}.md.j2").render(**values)


def minutes(kind: str, **values: object) -> str:
    name = "minutes_linknet.md.j2" if kind == "linknet" else "minutes_case_meeting.md.j2"
    return _env.get_template(name).render(**values)


# --- the values ---------------------------------------------------------------------------------


def day_text(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"


def when_text(start: datetime, minutes_long: int | None = None) -> str:
    """「2026年12月7日（月）10:00〜11:00」 in Tatsuno time."""
    local = start.astimezone(TOKYO)
    text = f"{day_text(local.date())}{local:%H:%M}"
    if minutes_long:
        text += f"〜{(local + timedelta(minutes=minutes_long)):%H:%M}"
    return text


def meeting_values(session: Session, meeting) -> dict:
    from models.meetings.rules import attendees

    return {
        "title": t(f"meeting.kind.{meeting.kind}"),
        "when": when_text(meeting.starts_at, meeting.minutes_long),
        "place": meeting.place,
        "attendee_count": len(attendees(session, meeting.id)),
    }


def case_values(case) -> dict:
    return {
        "number": case.number,
        "domains": "・".join(label("domain", d) for d in case.domains) or t("card.no_domain"),
        "age_band": label("age_band", case.age_band),
        "state": label("state", case.state),
    }


def latest_figures(session: Session) -> dict | None:
    """The last monthly Link-net post, as published (k未満 and secondary suppression applied)."""
    from handlers.linknet.views import figure, period_label, source_label
    from models.linknet.cells import TOTAL, Cell
    from models.linknet.figures import published
    from models.linknet.ledger import LinknetPublication
    from models.linknet.sources import SOURCES

    row = session.exec(
        select(LinknetPublication)
        .where(LinknetPublication.kind == "post")
        .order_by(LinknetPublication.last.desc(), LinknetPublication.id.desc())
    ).first()
    if row is None:
        return None
    pub = published(session, row.id)
    period = pub.layout.columns[0]
    lines = []
    for source in SOURCES:
        if source in pub.withheld:
            continue
        shown = pub.get(Cell(source, TOTAL, period.first.index, period.last.index))
        if shown is not None:
            lines.append(f"{source_label(source)}：{figure(shown, pub.k)}")
    return {"period": period_label(period), "lines": lines}


def lawful_agenda(session: Session, meeting) -> tuple[list, int]:
    """The cases the meeting may discuss now, and how many left its agenda: a たつのまるごと会議
    keeps only cases whose consent is still current (a withdrawn one goes back to さぽネット)."""
    from models.cases.tables import has_consent
    from models.meetings.schedule import agenda_cases
    from models.meetings.tables import MeetingKind

    cases = agenda_cases(session, meeting.id)
    if meeting.kind == MeetingKind.marugoto:
        kept = [c for c in cases if has_consent(session, c.id)]
        return kept, len(cases) - len(kept)
    if meeting.kind == MeetingKind.linknet:
        return [], 0
    return cases, 0


def agenda_text(session: Session, meeting) -> str:
    from models.meetings.schedule import topics_of
    from models.meetings.tables import MeetingKind

    cases, _ = lawful_agenda(session, meeting)
    linknet = meeting.kind == MeetingKind.linknet
    return agenda(
        meeting.kind,
        meeting=meeting_values(session, meeting),
        cases=[case_values(c) for c in cases],
        topics=topics_of(session, meeting.id) if linknet else [],
        figures=latest_figures(session) if linknet else None,
    )


def _outcome_values(session: Session, outcome, *, erased: bool = False) -> dict:
    from models.cases.tables import Case
    from models.org.tables import Agency
    from models.plans.tables import Plan, Resource
    from models.plans.tasks import tasks_of_outcome

    case = session.get(Case, outcome.case_id)
    names = {a.id: a.name for a in session.exec(select(Agency))}
    values = {
        **case_values(case),
        "direction": outcome.direction,
        "lead": names.get(outcome.lead_agency_id) if outcome.lead_agency_id else None,
        "next_step": t(f"outcome.next_step.{outcome.next_step}"),
        "review_on": day_text(outcome.review_on) if outcome.review_on else None,
        "goals": [],
        "plan_version": None,
        "tasks": [],
        "erased": erased,
    }
    if erased:  # its texts are blank now: say so rather than print empty lines
        return {**values, "direction": t("outcome.erased")}
    plan = session.exec(
        select(Plan)
        .where(Plan.case_id == outcome.case_id, Plan.meeting_id == outcome.meeting_id)
        .order_by(Plan.version.desc())
    ).first()
    tasks = []
    for task in tasks_of_outcome(session, outcome):
        resource = session.get(Resource, task.resource_id) if task.resource_id else None
        tasks.append(
            {
                "agency": names.get(task.agency_id, ""),
                "what": task.what,
                "due_on": day_text(task.due_on),
                "resource": resource.name if resource else None,
            }
        )
    return {
        **values,
        "goals": list(plan.goals) if plan else [],
        "plan_version": plan.version if plan else None,
        "tasks": tasks,
    }


def minutes_text(session: Session, meeting, *, by, notes: list[str] | None = None) -> str:
    """The minutes as they stand: a case meeting's recorded outcomes, or a Link-net meeting's
    topics, notes and published figures (nothing about a person)."""
    from models.meetings.schedule import topics_of
    from models.meetings.tables import MeetingKind
    from models.plans.outcomes import outcomes_of

    values = meeting_values(session, meeting)
    if meeting.kind == MeetingKind.linknet:
        return minutes(
            "linknet",
            meeting=values,
            topics=topics_of(session, meeting.id),
            notes=list(notes or []),
            figures=latest_figures(session),
        )
    return minutes(
        meeting.kind,
        meeting=values,
        recorded_by=f"{by.name}",
        # A direction is required on entry, so a blank one was erased (models.retention).
        outcomes=[
            _outcome_values(session, o, erased=not o.direction)
            for o in outcomes_of(session, meeting.id)
        ],
    )


def minutes_now(session: Session, meeting, stored) -> str:
    """The text of the stored minutes `stored` to show or export. Minutes blanked by an erasure
    (models.retention) are rendered again from the outcomes as they are now — the erased case's
    marked as erased — by their recorder, and stored again so they are rendered once."""
    from models.meetings.minutes import blank, store_rendered_again
    from models.org.tables import Member

    if not blank(stored):
        return stored.text
    text = minutes_text(
        session,
        meeting,
        by=session.get(Member, stored.recorded_by_id),
        notes=list(stored.notes or []),
    )
    store_rendered_again(session, stored, text=text)
    return text
