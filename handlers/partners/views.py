"""What partners from other organisations see: the door in their agency's channel, the list of
memos they sent, polite refusals, and the receipt and status words that reach them when a DM
cannot. Pure: plain data in, Block Kit out (Slack messages carry receipt numbers and status
words only)."""

from __future__ import annotations

import hashlib
import json

from slack_sdk.models.blocks import ActionsBlock, ButtonElement
from slack_sdk.models.views import View

from handlers.common import ids
from handlers.common.blocks import context, modal_view, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.notices.views import Rendered
from models.base.clock import TOKYO
from models.desk.lines import CaseLine

DOOR_METADATA_TYPE = "tsunagi_door"  # the door message's metadata: {"agency": key}


def door_message(*, agency_name: str, town: str) -> tuple[str, list[dict]]:
    """The pinned door: a short, polite explanation and the two buttons."""
    blocks = [
        section(t("door.body", agency=escape(agency_name), town=escape(town))),
        ActionsBlock(
            block_id=ids.BLOCK_DOOR,
            elements=[
                ButtonElement(
                    text=plain(t("door.write")), action_id=ids.ACTION_DOOR_MEMO, style="primary"
                ),
                ButtonElement(text=plain(t("door.status")), action_id=ids.ACTION_DOOR_STATUS),
            ],
        ),
        context(t("door.privacy")),
    ]
    return t("door.text", agency=agency_name), [b.to_dict() for b in blocks]


def digest(text: str, blocks: list[dict]) -> str:
    """What the door says, as a hash: a changed text is edited in place, an unchanged one left."""
    raw = json.dumps([text, blocks], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def not_registered(*, town: str, coordinator: str) -> str:
    return t("door.not_registered", town=escape(town), coordinator=escape(coordinator))


def refused_modal(text: str) -> View:
    return modal_view(
        ids.VIEW_NOTICE,
        title=t("partners.refused_title"),
        close=t("detail.close"),
        blocks=[section(text)],
    )


def sent_status_modal(lines: list[CaseLine], total: int) -> View:
    """送ったメモの状況: receipt number, status word, day sent — nothing else."""
    rows = [
        f"{c.number}　{label('referrer_status', c.referrer_status)}"
        f"（{c.created_at.astimezone(TOKYO):%Y-%m-%d}）"
        for c in lines
    ]
    body = "\n".join(rows) if rows else t("door.status_none")
    if total > len(rows):
        body += "\n" + t("door.status_more", count=total - len(rows))
    return modal_view(
        ids.VIEW_DOOR_STATUS,
        title=t("door.status_title"),
        close=t("detail.close"),
        blocks=[section(body), context(t("door.status_footer"))],
    )


def reach(
    *, number: str, status: str | None, user: str, thread_ts: str | None, ephemeral: bool
) -> Rendered:
    """The receipt (status None) or a status word, for a referrer a DM cannot reach: as an
    ephemeral message in the channel where they clicked, or as a reply under the door that
    mentions them. Receipt number and status word only."""
    if status is None:
        body, text = (
            t("partners.reach_receipt", number=number),
            t("partners.reach_receipt_text", number=number),
        )
    else:
        shown = label("referrer_status", status)
        body = t("partners.reach_status", number=number, status=shown)
        text = t("partners.reach_status_text", number=number, status=shown)
    if not ephemeral:
        body = t("partners.reach_mention", user=user, body=body)
    return Rendered(
        text=text,
        blocks=[section(body).to_dict()],
        ephemeral_user=user if ephemeral else None,
        thread_ts=None if ephemeral else thread_ts,
    )
