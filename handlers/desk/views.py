"""The case desk's forms (reroute, escalate, close …), `/tsunagi status` and `/tsunagi mine`
texts, and the closed-loop message to the referrer. Pure builders: data in, blocks out."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, modal_view, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import consent_text, domains_text, event_text, when
from handlers.notices.views import Rendered
from models.cases.casework import REASON_LIMIT
from models.cases.lifecycle import CaseState, CloseReason, Step, resume_target
from models.cases.records import CaseSummary
from models.desk.lines import CaseLine, Desk, Waiting
from models.org.tables import Agency

MINE_LINES = 15  # /tsunagi mine lists at most this many per part; the Home tab has the rest


@dataclass(frozen=True)
class StepMeta:
    """What a step form remembers (private_metadata). Rights are re-checked on submit."""

    case_id: int
    step: str

    def dumps(self) -> str:
        return forms.metadata(case_id=self.case_id, step=self.step)

    @classmethod
    def loads(cls, raw: str | None) -> StepMeta | None:
        data = forms.read_metadata(raw)
        try:
            return cls(case_id=int(data["case_id"]), step=Step(data["step"]).value)
        except (ValueError, KeyError, TypeError):
            return None


def case_line(s: CaseSummary | CaseLine) -> str:
    """`*R8-0001*　窓口で対応中｜通常｜高齢` — coarse facts only."""
    return (
        f"*{s.number}*　{label('state', s.state)}｜{label('urgency', s.urgency)}｜{domains_text(s)}"
    )


def _reason_input(block: str, *, optional: bool, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=plain(t(f"step.{block}")),
        optional=optional,
        hint=plain(hint) if hint else None,
        element=PlainTextInputElement(action_id=ids.VALUE, multiline=True, max_length=REASON_LIMIT),
    )


def _agency_select(block: str, agencies: list[Agency], initial: int | None = None) -> InputBlock:
    options = [option(a.name, str(a.id)) for a in agencies][:100]
    chosen = next((o for o in options if o.value == str(initial)), None)
    return InputBlock(
        block_id=block,
        label=plain(t(f"step.{block}")),
        element=StaticSelectElement(
            action_id=ids.VALUE,
            placeholder=plain(t("step.choose")),
            options=options,
            initial_option=chosen,
        ),
    )


def step_modal(
    step: Step,
    s: CaseSummary,
    *,
    windows: list[Agency] | None = None,
    lead_agency_id: int | None = None,
    stages: list[CaseState] | None = None,
    consent_given: bool = False,
    suspended_from: str | None = None,
) -> View:
    """The form of one step. Every free text is optional only where the step allows it."""
    blocks: list = [section(case_line(s))]
    note = t("step.free_text_notice")
    if step is Step.reroute:
        blocks += [
            context(t("step.reroute_intro")),
            _agency_select("agency", windows or []),
            _reason_input("reason", optional=False, hint=note),
        ]
    elif step is Step.escalate:
        blocks += [
            context(t("step.escalate_intro")),
            _reason_input("reason", optional=False, hint=note),
        ]
    elif step is Step.start_assessment:
        blocks.append(section(t("step.start_assessment_intro")))
    elif step is Step.advance:
        stage_options = [option(label("state", st), st.value) for st in stages or []]
        blocks.append(
            InputBlock(
                block_id="stage",
                label=plain(t("step.stage")),
                element=RadioButtonsElement(action_id=ids.VALUE, options=stage_options),
            )
        )
        if CaseState.marugoto in (stages or []) and not consent_given:
            blocks.append(context(t("step.marugoto_needs_consent")))
        blocks.append(_reason_input("note", optional=True, hint=note))
    elif step is Step.set_lead:
        blocks += [
            context(t("step.set_lead_intro")),
            _agency_select("agency", windows or [], initial=lead_agency_id),
            _reason_input("reason", optional=True, hint=note),
        ]
    elif step is Step.suspend:
        blocks += [
            context(t("step.suspend_intro")),
            _reason_input("reason", optional=False, hint=note),
        ]
    elif step is Step.resume:
        back = label("state", resume_target(suspended_from))
        blocks += [
            section(t("step.resume_intro", state=back)),
            _reason_input("note", optional=True, hint=note),
        ]
    elif step is Step.close:
        blocks += [
            context(t("step.close_intro")),
            InputBlock(
                block_id="close_reason",
                label=plain(t("step.close_reason")),
                element=StaticSelectElement(
                    action_id=ids.VALUE,
                    placeholder=plain(t("step.choose")),
                    options=[option(label("close_reason", r), r.value) for r in CloseReason],
                ),
            ),
            _reason_input("note", optional=True, hint=t("step.close_note_hint")),
        ]
    else:
        raise ValueError(f"no form for {step}")
    return modal_view(
        ids.VIEW_CASE_STEP,
        title=label("step_title", step),
        submit=label("step_submit", step),
        close=t("step.cancel"),
        metadata=StepMeta(s.case_id, step.value).dumps(),
        blocks=blocks,
    )


# --- /tsunagi status and /tsunagi mine ----------------------------------------------------------


def status_for_referrer(s: CaseSummary) -> str:
    return t(
        "status.referrer",
        number=s.number,
        status=label("referrer_status", s.referrer_status),
        sent=when(s.created_at),
    )


def status_for_team(s: CaseSummary) -> str:
    rows = [
        t("status.team_head", number=s.number, state=label("state", s.state)),
        "｜".join(
            [
                f"{t('card.urgency')}：{label('urgency', s.urgency)}",
                f"{t('card.domains')}：{domains_text(s)}",
                f"{t('card.age_band')}：{label('age_band', s.age_band)}",
            ]
        ),
        f"{t('card.routed')}：{escape(s.routed_agency)}",
        f"{t('card.lead')}：{escape(s.lead_agency) if s.lead_agency else t('detail.lead_none')}",
        f"{t('card.consent')}：{consent_text(s)}",
    ]
    if s.acknowledged_at:
        rows.append(t("card.acknowledged", user=s.acknowledged_by, when=when(s.acknowledged_at)))
    if s.last_event and s.last_event.kind not in ("received", "acknowledged"):
        rows.append(event_text(s.last_event))
    return "\n".join(rows)


def _waiting_row(w: Waiting) -> str:
    mark = "⚠️ " if w.overdue else ""
    return (
        f"{mark}{case_line(w.line)}｜"
        f"{t('desk.waited', waited=waited_text(w.waited), due=when(w.due))}"
    )


def waited_text(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return t("desk.minutes", n=max(minutes, 0))
    if minutes < 60 * 24:
        return t("desk.hours", n=minutes // 60)
    return t("desk.days", n=minutes // (60 * 24))


def mine_text(desk: Desk) -> str:
    """`/tsunagi mine`: what is mine, short; the Home tab has everything, paged."""
    parts: list[str] = []

    def block(title: str, rows: list[str], total: int) -> None:
        text = f"*{title}*\n" + ("\n".join(rows) if rows else t("mine.none"))
        if total > len(rows):
            text += "\n" + t("mine.more", count=total - len(rows))
        parts.append(text)

    if "waiting" in desk.sections:
        page = desk.waiting
        block(
            t("mine.waiting", count=page.total), [_waiting_row(w) for w in page.items], page.total
        )
    if "cases" in desk.sections:
        page = desk.cases
        block(t("mine.cases", count=page.total), [case_line(c) for c in page.items], page.total)
    if "tasks" in desk.sections:
        tasks = desk.tasks or ()
        block(t("mine.tasks"), [f"*{i.number}*　{t(i.title_code)}" for i in tasks], len(tasks))
    if "sent" in desk.sections:
        page = desk.sent
        rows = [
            f"*{c.number}*　{label('referrer_status', c.referrer_status)}（{when(c.created_at)}）"
            for c in page.items
        ]
        block(t("mine.sent", count=page.total), rows, page.total)
    if "department" in desk.sections:
        parts.append(t("mine.department"))
    if "admin" in desk.sections and len(desk.sections) == 1:
        parts.append(t("mine.admin"))
    parts.append(t("mine.footer"))
    return "\n\n".join(parts)


# --- the closed loop: the referrer hears receipt number and status ------------------------------


def referrer_update(s: CaseSummary, event: str) -> Rendered:
    """To the referrer: where the memo went (receipt number and the window, nothing more)."""
    body = t(f"referrer.{event}", number=s.number, agency=escape(s.routed_agency))
    return Rendered(
        text=t(f"referrer.{event}_text", number=s.number), blocks=[section(body).to_dict()]
    )


def referrer_status(s: CaseSummary, event: str) -> Rendered:
    status = label("referrer_status", s.referrer_status)
    body = t(f"referrer_status.{event}", number=s.number, status=status)
    text = t(f"referrer_status.{event}_text", number=s.number, status=status)
    return Rendered(text=text, blocks=[section(body).to_dict()])
