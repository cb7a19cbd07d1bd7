"""Link-net in Slack: `/tsunagi summary [YYYY-MM]`, the coordinator's private preview of the post.

The post itself goes out from the monthly job (reminders/linknet_job.py) or `tsunagi linknet
post`; both and this preview use the one core in models/linknet/.
"""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import commands
from handlers.common.commands import Reply
from handlers.common.replies import message_for, refuse
from handlers.common.services import services
from handlers.common.texts import t
from handlers.linknet.views import preview_blocks
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases.access import Action, decide
from models.linknet import acks
from models.linknet.figures import (
    as_published,
    linknet_k,
    make_draft,
    post_layout,
    published,
)
from models.linknet.periods import Month, last_complete_month
from models.linknet.posting import posted_month
from models.org.roster import channel_for, member_by_slack_id
from reminders.linknet_job import ack_deadline_function


def register(app: App) -> None:
    """`/tsunagi summary`: the month's figures before they are posted (coordinator only)."""
    commands.add_slow(app, ("summary", "集計"), summary_command)


def preview(session: Session, month: Month, *, now) -> tuple[list[dict], str]:
    """The blocks of the month's post as it would go out (or as it went out), and a text."""
    already = posted_month(session, month)
    if already is not None:
        pub = published(session, already)
    else:
        acks.record_ack_deadlines(session, deadline=ack_deadline_function(session), until=now)
        draft = make_draft(session, post_layout(month), k=linknet_k(session), now=now)
        pub = as_published(draft)
    blocks = preview_blocks(
        pub, channel=channel_for(session, "linknet"), already=already is not None
    )
    return blocks, t("linknet.text", period=f"{month.year}年{month.month}月")


def summary_command(body: dict, client: WebClient, context: dict, args: list[str]) -> Reply:
    """`/tsunagi summary [YYYY-MM]`: only the coordinator, only to them; computed after the ack."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide(session, member, Action.preview_linknet)
        if not decision:
            text = refuse(
                session,
                at=now,
                slack_id=user,
                member=member,
                action=Action.preview_linknet,
                reason=decision.reason,
            )
            return Reply(text)
        if len(args) > 1:
            return Reply(t("linknet.preview.usage"))
        try:
            month = Month.parse(args[0]) if args else last_complete_month(now)
            blocks, text = preview(session, month, now=now)
        except DomainError as exc:
            return Reply(message_for(exc))
    return Reply(text, blocks)
