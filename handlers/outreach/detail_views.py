"""The target's modal: the person, the reason, the history and the buttons this member may use.
Personal details: opened on request by an entitled member (the listener audits every opening);
every text a person wrote is escaped. Pure: data in, blocks out."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, DividerBlock
from slack_sdk.models.views import View

from handlers.common import ids
from handlers.common.blocks import context, modal_view, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.outreach.views import PERSON_FIELDS, SECTION_TEXT, cadence_text, day, line_text
from models.outreach.listing import TargetDetail


def _value(value: str | None) -> str:
    return escape(value) if value else t("outreach.detail.empty")


def _history(d: TargetDetail) -> str:
    rows = []
    for c in d.contacts:
        row = t(
            "outreach.detail.contact_line",
            when=when(c.at),
            method=label("outreach_method", c.method),
            outcome=label("outreach_outcome", c.outcome),
            user=c.by or "-",
        )
        if c.note:
            row += "\n　" + escape(c.note[:300])
        rows.append(row)
    return "\n".join(rows)[:SECTION_TEXT] or t("outreach.detail.no_contacts")


def detail_modal(
    d: TargetDetail,
    *,
    can_log: bool,
    can_pause: bool,
    can_close: bool,
) -> View:
    x = d.line
    person = d.person
    blocks: list = [
        context(t("outreach.detail.notice")),
        section(line_text(x, with_state=True)),
    ]
    facts = [
        f"*{t('outreach.detail.state')}*　{label('outreach_state', x.state)}",
        f"*{t('outreach.field.reason_kind')}*　{label('outreach_reason', x.reason_kind)}",
        f"*{t('outreach.field.age_band')}*　{label('age_band', d.age_band)}",
        f"*{t('outreach.field.cadence')}*　{cadence_text(x.cadence_days)}",
        f"*{t('outreach.field.next_contact_on')}*　{day(x.next_contact_on)}",
        f"*{t('outreach.field.agencies')}*　{escape('、'.join(x.agencies))}",
        t("outreach.detail.created", user=d.created_by or "-", when=when(d.created_at)),
    ]
    if x.case_number:
        facts.insert(1, f"*{t('outreach.detail.case')}*　{x.case_number}")
    blocks.append(section("\n".join(facts)))
    if not x.case_number or person:
        blocks.append(
            section(
                "\n".join(
                    f"*{t(f'outreach.field.{k}')}*　{_value(person.get(k))}" for k in PERSON_FIELDS
                )[:SECTION_TEXT]
            )
        )
    else:
        blocks.append(context(t("outreach.detail.person_in_case", number=x.case_number)))
    blocks.append(section(f"*{t('outreach.field.reason')}*\n{_value(d.reason)}"[:SECTION_TEXT]))
    if d.state_reason and x.state in ("paused", "closed", "active"):
        blocks.append(
            section(
                f"*{t('outreach.detail.state_reason')}*\n{_value(d.state_reason)}"[:SECTION_TEXT]
            )
        )
    blocks += [DividerBlock(), section(f"*{t('outreach.detail.history')}*\n{_history(d)}")]
    open_ = x.state in ("active", "paused")
    offered = (  # (shown, what, action id, style)
        (can_log and open_, "log", ids.ACTION_OUTREACH_LOG, "primary"),
        (can_pause and x.state == "active", "pause", ids.ACTION_OUTREACH_PAUSE, None),
        (can_pause and x.state == "paused", "resume", ids.ACTION_OUTREACH_RESUME, None),
        (can_close and open_, "close", ids.ACTION_OUTREACH_CLOSE, "danger"),
    )
    buttons = [
        ButtonElement(
            text=plain(t(f"outreach.button.{what}")),
            action_id=action_id,
            value=str(x.target_id),
            style=style,
        )
        for shown, what, action_id, style in offered
        if shown
    ]
    if buttons:
        blocks.append(
            ActionsBlock(block_id=f"{ids.BLOCK_OUTREACH_TARGET}{x.target_id}", elements=buttons)
        )
    return modal_view(
        ids.VIEW_NOTICE,
        title=t("outreach.detail.title", label=x.label)[:24],
        close=t("outreach.close"),
        blocks=blocks,
    )
