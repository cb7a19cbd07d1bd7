"""Case messages and the detail modal. Pure: summaries in, blocks out."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import ids
from handlers.common.blocks import context, modal_view, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import has, label, t
from models.base.clock import TOKYO
from models.cases.casework import CaseRecord, ConsentLine, HistoryLine
from models.cases.lifecycle import Step, steps_from
from models.cases.records import CaseDetail, CaseSummary, EventLine

SECTION_TEXT = 2800  # Slack allows 3000 characters in a section's text
HISTORY_REASON = 200  # a reason is shortened in the history list


def when(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%-m/%-d %H:%M")


def day(at) -> str:
    return at.strftime("%-m/%-d") if at else ""


def domains_text(s) -> str:
    return "・".join(label("domain", d) for d in s.domains) or t("card.no_domain")


def consent_text(s: CaseSummary) -> str:
    """The current 本人同意 if recorded, else what the referrer said in the memo."""
    if s.consent_status:
        return label("consent_status", s.consent_status)
    return t("card.consent_from_memo", value=label("consent", s.consent_to_share))


def _fields(s: CaseSummary) -> list[MarkdownTextObject]:
    pairs = [
        ("card.urgency", label("urgency", s.urgency)),
        ("card.domains", domains_text(s)),
        ("card.age_band", label("age_band", s.age_band)),
        ("card.referrer", escape(s.referrer_agency)),
        ("card.consent", consent_text(s)),
        ("card.state", label("state", s.state)),
        ("card.routed", escape(s.routed_agency)),
    ]
    if s.lead_agency:
        pairs.append(("card.lead", escape(s.lead_agency)))
    return [MarkdownTextObject(text=f"*{t(code)}*\n{value}") for code, value in pairs]


def event_text(e: EventLine | HistoryLine) -> str:
    """「11/27 10:30 @someone さんが 中断しました」 — never the free-text reason."""
    # Other features may add their own kinds of events; an unknown one reads as a state change.
    what = label("event", e.kind) if has(f"label.event.{e.kind}") else label("event", "transition")
    if e.agency:
        what = t("card.event_to", what=what, agency=escape(e.agency))
    if e.kind == "advanced" and e.to_state:
        what = t("card.event_to", what=what, agency=label("state", e.to_state))
    who = t("card.event_by", user=e.actor) if e.actor else t("card.event_by_bot")
    return t("card.event", when=when(e.at), who=who, what=what)


def step_menu(s: CaseSummary) -> StaticSelectElement | None:
    """The steps that make sense now; rights are checked when someone picks one."""
    steps = [step for step in steps_from(s.state) if step is not Step.acknowledge]
    if not steps:
        return None
    return StaticSelectElement(
        action_id=ids.ACTION_CASE_MENU,
        placeholder=plain(t("card.menu")),
        options=[option(label("step", step), f"{step.value}:{s.case_id}") for step in steps],
    )


def case_card(s: CaseSummary, *, late_due: datetime | None = None) -> tuple[str, list[dict]]:
    """The message a team sees for a routed memo; refreshed in place as the case moves."""
    blocks = [
        SectionBlock(
            # 「新しい…」 only while the memo waits to be taken; afterwards its state.
            text=MarkdownTextObject(
                text=t("card.new", number=s.number)
                if s.state == "received"
                else t("card.head", number=s.number, state=label("state", s.state))
            ),
            fields=_fields(s),
        ),
        context(f"{t('card.route')}：{label('route_reason', s.route_reason)}"),
    ]
    if s.acknowledged_at:
        blocks.append(
            context(t("card.acknowledged", user=s.acknowledged_by, when=when(s.acknowledged_at)))
        )
        text = t("card.taken_text", number=s.number, who=f"<@{s.acknowledged_by}>")
    else:
        blocks.append(context(t("card.waiting", since=when(s.state_since or s.created_at))))
        text = t("card.new_text", number=s.number, urgency=label("urgency", s.urgency))
    if s.last_event and s.last_event.kind not in ("received", "acknowledged"):
        blocks.append(context(event_text(s.last_event)))
        text = t("card.moved_text", number=s.number, state=label("state", s.state))
    elements: list = [
        ButtonElement(
            text=plain(t("card.detail_button")),
            action_id=ids.ACTION_CASE_DETAIL,
            value=str(s.case_id),
        )
    ]
    if not s.acknowledged_at and s.state == "received":
        elements.append(
            ButtonElement(
                text=plain(t("card.acknowledge_button")),
                action_id=ids.ACTION_CASE_ACKNOWLEDGE,
                value=str(s.case_id),
                style="primary",
            )
        )
    menu = step_menu(s)
    if menu is not None:
        elements.append(menu)
    blocks.append(ActionsBlock(block_id=f"{ids.BLOCK_CASE}{s.case_id}", elements=elements))
    if late_due:
        blocks.append(context(t("card.late", due=when(late_due))))
    return text, [b.to_dict() for b in blocks]


def long_text(code: str, value: str | None) -> list[SectionBlock]:
    """A titled text that may run over one section (3000 characters): continued below."""
    shown = escape(value) if value else t("detail.empty")
    parts = [shown[i : i + SECTION_TEXT] for i in range(0, len(shown), SECTION_TEXT)]
    return [section(f"*{t(code)}*\n{parts[0]}")] + [section(p) for p in parts[1:]]


def consent_line_text(c: ConsentLine | None) -> str:
    if c is None:
        return t("detail.consent_none")
    parts = [label("consent_status", c.status)]
    if c.method:
        parts.append(label("consent_method", c.method))
    if c.obtained_on:
        parts.append(day(c.obtained_on))
    text = "・".join(parts)
    if c.agencies:
        text += "\n" + t("detail.consent_covers", agencies=escape("、".join(c.agencies)))
    if c.recorded_by:
        text += "\n" + t("detail.recorded_by", user=c.recorded_by, when=when(c.recorded_at))
    return text


def history_text(lines: tuple[HistoryLine, ...]) -> str:
    rows = []
    for line in lines:
        row = event_text(line)
        if line.code and line.kind == "closed":
            row += f"（{label('close_reason', line.code)}）"
        elif line.code and line.kind in ("consent_recorded", "consent_withdrawn"):
            row += f"（{label('consent_status', line.code)}）"
        if line.reason:
            reason = line.reason
            if len(reason) > HISTORY_REASON:
                reason = reason[:HISTORY_REASON] + "…"
            row += "\n　" + t("detail.reason", reason=escape(reason))
        rows.append(row)
    return "\n".join(rows)[:SECTION_TEXT] or t("detail.empty")


def step_buttons(case_id: int, steps: list[Step]) -> list[ActionsBlock]:
    """The steps this member may take now, as buttons (5 to a row)."""
    buttons = [
        ButtonElement(
            text=plain(label("step", step)),
            action_id=f"{ids.ACTION_CASE_STEP}{step.value}",
            value=str(case_id),
            style="danger" if step is Step.close else None,
        )
        for step in steps
        if step is not Step.acknowledge
    ]
    if Step.acknowledge in steps:
        buttons.insert(
            0,
            ButtonElement(
                text=plain(t("card.acknowledge_button")),
                action_id=ids.ACTION_CASE_ACKNOWLEDGE,
                value=str(case_id),
                style="primary",
            ),
        )
    return [
        ActionsBlock(block_id=f"{ids.BLOCK_CASE_STEPS}{i}", elements=buttons[i : i + 5])
        for i in range(0, len(buttons), 5)
    ]


def detail_modal(
    d: CaseDetail, *, record: CaseRecord | None = None, steps: list[Step] | None = None
) -> View:
    """Personal details: opened on request by an entitled member; the view is audited."""
    s = d.summary
    concerns = "、".join(label("concern", c) for c in d.concerns)
    blocks = [
        context(t("detail.notice")),
        section(f"*{t('detail.number')}*　{s.number}　（{label('state', s.state)}）"),
        *long_text("detail.person_name", d.person_name),
        *long_text("detail.person_kana", d.person_kana),
        section(f"*{t('detail.age_band')}*\n{label('age_band', s.age_band)}"),
        *long_text("detail.district", d.district),
        *long_text("detail.contact", d.contact),
        *long_text("detail.household", d.household),
        section(f"*{t('detail.concerns')}*\n{concerns}"),
        *long_text("detail.narrative", d.narrative),
        section(
            f"*{t('detail.urgency')}*　{label('urgency', s.urgency)}\n"
            f"*{t('detail.consent')}*　{label('consent', s.consent_to_share)}\n"
            f"*{t('detail.referrer')}*　{escape(s.referrer_agency)}\n"
            f"*{t('detail.routed')}*　{escape(s.routed_agency)}\n"
            f"*{t('detail.received_at')}*　{when(s.created_at)}"
        ),
    ]
    if record is not None:
        lead = escape(record.lead_agency) if record.lead_agency else t("detail.lead_none")
        if record.assessment_version:
            assessment = t(
                "detail.assessment_version",
                version=record.assessment_version,
                when=when(record.assessment_at),
            )
        else:
            assessment = t("detail.assessment_none")
        blocks += [
            DividerBlock(),
            section(
                f"*{t('detail.lead')}*　{lead}\n"
                f"*{t('detail.assessment')}*　{assessment}\n"
                f"*{t('detail.current_consent')}*　{consent_line_text(record.consent)}"
            ),
            section(f"*{t('detail.history')}*\n{history_text(record.history)}"),
        ]
    if steps:
        blocks += [context(t("detail.steps")), *step_buttons(s.case_id, steps)]
    return modal_view(
        ids.VIEW_NOTICE,
        title=t("detail.title"),
        close=t("detail.close"),
        blocks=blocks,
    )
