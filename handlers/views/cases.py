"""Case messages and the detail modal. Pure: summaries in, blocks out."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from handlers import ids
from handlers.texts import label, t
from handlers.views.common import context, plain, section
from handlers.views.mrkdwn import escape
from models.cases import CaseDetail, CaseSummary
from models.clock import TOKYO


def when(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%-m/%-d %H:%M")


def domains_text(s: CaseSummary) -> str:
    return "・".join(label("domain", d) for d in s.domains) or t("card.no_domain")


def _fields(s: CaseSummary) -> list[MarkdownTextObject]:
    pairs = [
        ("card.urgency", label("urgency", s.urgency)),
        ("card.domains", domains_text(s)),
        ("card.age_band", label("age_band", s.age_band)),
        ("card.referrer", escape(s.referrer_agency)),
        ("card.consent", label("consent", s.consent_to_share)),
        ("card.state", label("state", s.state)),
    ]
    return [MarkdownTextObject(text=f"*{t(code)}*\n{value}") for code, value in pairs]


def case_card(s: CaseSummary, *, late_due: datetime | None = None) -> tuple[str, list[dict]]:
    """The message a team sees for a routed memo; refreshed in place as the case moves."""
    blocks = [
        SectionBlock(
            text=MarkdownTextObject(text=t("card.new", number=s.number)), fields=_fields(s)
        ),
        context(f"{t('card.route')}：{label('route_reason', s.route_reason)}"),
    ]
    if s.acknowledged_at:
        blocks.append(
            context(t("card.acknowledged", user=s.acknowledged_by, when=when(s.acknowledged_at)))
        )
        text = t("card.taken_text", number=s.number, who=f"<@{s.acknowledged_by}>")
    else:
        blocks.append(context(t("card.waiting", since=when(s.created_at))))
        text = t("card.new_text", number=s.number, urgency=label("urgency", s.urgency))
    buttons = [
        ButtonElement(
            text=plain(t("card.detail_button")),
            action_id=ids.ACTION_CASE_DETAIL,
            value=str(s.case_id),
        )
    ]
    if not s.acknowledged_at:
        buttons.append(
            ButtonElement(
                text=plain(t("card.acknowledge_button")),
                action_id=ids.ACTION_CASE_ACKNOWLEDGE,
                value=str(s.case_id),
                style="primary",
            )
        )
    blocks.append(ActionsBlock(block_id=f"case:{s.case_id}", elements=buttons))
    if late_due:
        blocks.append(context(t("card.late", due=when(late_due))))
    return text, [b.to_dict() for b in blocks]


def detail_modal(d: CaseDetail) -> View:
    """Personal details: opened on request by an entitled member; the view is audited."""
    s = d.summary
    empty = t("detail.empty")

    def rows(code: str, value: str | None) -> list[SectionBlock]:
        # A section holds 3000 characters; long narratives continue in further sections.
        shown = escape(value) if value else empty
        parts = [shown[i : i + 2800] for i in range(0, len(shown), 2800)]
        return [section(f"*{t(code)}*\n{parts[0]}")] + [section(p) for p in parts[1:]]

    concerns = "、".join(label("concern", c) for c in d.concerns)
    blocks = [
        context(t("detail.notice")),
        section(f"*{t('detail.number')}*　{s.number}　（{label('state', s.state)}）"),
        *rows("detail.person_name", d.person_name),
        *rows("detail.person_kana", d.person_kana),
        section(f"*{t('detail.age_band')}*\n{label('age_band', s.age_band)}"),
        *rows("detail.district", d.district),
        *rows("detail.contact", d.contact),
        *rows("detail.household", d.household),
        section(f"*{t('detail.concerns')}*\n{concerns}"),
        *rows("detail.narrative", d.narrative),
        section(
            f"*{t('detail.urgency')}*　{label('urgency', s.urgency)}\n"
            f"*{t('detail.consent')}*　{label('consent', s.consent_to_share)}\n"
            f"*{t('detail.referrer')}*　{escape(s.referrer_agency)}\n"
            f"*{t('detail.received_at')}*　{when(s.created_at)}"
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_NOTICE,
        title=plain(t("detail.title")),
        close=plain(t("detail.close")),
        blocks=blocks,
    )
