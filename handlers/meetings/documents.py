"""Agendas and minutes, rendered from the Jinja2 templates in handlers/meetings/templates/.

The town may edit the templates without touching code. Values passed in are plain data (the
receipt number and coarse facts for agendas; the recorded outcomes for minutes), so a template
cannot reach anything it was not given. A Link-net meeting's agenda and minutes are given no
case at all — only its topics, its notes and the figures already published to the departments.
What goes in is read by handlers/meetings/papers.py; nothing here reads the database.

Values a template may use:
- agenda_*.md.j2:   meeting.{title, when, place, attendee_count}, cases[].{number, domains,
                    age_band, state} (さぽネット・まるごと), topics[], figures.{period, lines[]}
                    (リンクネット; may be empty)
- minutes_case_meeting.md.j2: meeting.*, recorded_by, outcomes[].{number, domains, direction,
                    lead, next_step, review_on, goals[], plan_version, tasks[].{agency, what,
                    due_on, resource}, erased} — an erased case's outcome (models/ops/erasure)
                    keeps its receipt number and coarse facts; its direction says it was
                    erased, its goals and tasks are empty
- minutes_linknet.md.j2: meeting.*, topics[], notes[], figures
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jinja2 import Environment, PackageLoader, StrictUndefined

from handlers.common.texts import label, t
from handlers.linknet.views import figure, period_label, source_label
from models.base.clock import TOKYO
from models.linknet.cells import TOTAL, Cell
from models.linknet.figures import Published
from models.linknet.sources import SOURCES
from models.meetings.tables import Meeting, MeetingKind
from models.plans.minutes import OutcomeEntry

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


def meeting_when(meeting: Meeting) -> str:
    return when_text(meeting.starts_at, meeting.minutes_long)


def meeting_values(meeting: Meeting, *, attendee_count: int) -> dict:
    return {
        "title": t(f"meeting.kind.{meeting.kind}"),
        "when": meeting_when(meeting),
        "place": meeting.place,
        "attendee_count": attendee_count,
    }


def case_values(case) -> dict:
    return {
        "number": case.number,
        "domains": "・".join(label("domain", d) for d in case.domains) or t("card.no_domain"),
        "age_band": label("age_band", case.age_band),
        "state": label("state", case.state),
    }


def case_facts(case) -> str:
    """`高齢・75歳以上・アセスメント中`: a case's coarse facts, after its receipt number."""
    v = case_values(case)
    return f"{v['domains']}・{v['age_band']}・{v['state']}"


def figures_values(pub: Published | None) -> dict | None:
    """The last monthly Link-net post, as published (k未満 and secondary suppression applied)."""
    if pub is None:
        return None
    period = pub.layout.columns[0]
    lines = []
    for source in SOURCES:
        if source in pub.withheld:
            continue
        shown = pub.get(Cell(source, TOTAL, period.first.index, period.last.index))
        if shown is not None:
            lines.append(f"{source_label(source)}：{figure(shown, pub.k)}")
    return {"period": period_label(period), "lines": lines}


def outcome_values(entry: OutcomeEntry) -> dict:
    values = {
        **case_values(entry.case),
        "direction": entry.direction,
        "lead": entry.lead,
        "next_step": t(f"outcome.next_step.{entry.next_step}"),
        "review_on": day_text(entry.review_on) if entry.review_on else None,
        "goals": list(entry.goals),
        "plan_version": entry.plan_version,
        "tasks": [
            {
                "agency": role.agency,
                "what": role.what,
                "due_on": day_text(role.due_on),
                "resource": role.resource,
            }
            for role in entry.roles
        ],
        "erased": entry.erased,
    }
    if entry.erased:  # its texts are blank now: say so rather than print empty lines
        return {**values, "direction": t("outcome.erased")}
    return values


# --- the documents ------------------------------------------------------------------------------


def agenda_text(
    meeting: Meeting,
    *,
    attendee_count: int,
    cases: list,
    topics: list[str],
    figures: Published | None,
) -> str:
    """The agenda (次第): a case meeting's cases, or a Link-net meeting's topics and figures."""
    return agenda(
        meeting.kind,
        meeting=meeting_values(meeting, attendee_count=attendee_count),
        cases=[case_values(c) for c in cases],
        topics=topics,
        figures=figures_values(figures),
    )


def linknet_minutes_text(
    meeting: Meeting,
    *,
    attendee_count: int,
    topics: list[str],
    notes: list[str],
    figures: Published | None,
) -> str:
    """A Link-net meeting's minutes: its topics, notes and published figures."""
    return minutes(
        MeetingKind.linknet,
        meeting=meeting_values(meeting, attendee_count=attendee_count),
        topics=topics,
        notes=notes,
        figures=figures_values(figures),
    )


def case_minutes_text(
    meeting: Meeting, *, attendee_count: int, recorded_by: str, outcomes: list[OutcomeEntry]
) -> str:
    """A case meeting's minutes: the outcomes recorded, case by case (nothing about a person)."""
    return minutes(
        meeting.kind,
        meeting=meeting_values(meeting, attendee_count=attendee_count),
        recorded_by=recorded_by,
        outcomes=[outcome_values(o) for o in outcomes],
    )
