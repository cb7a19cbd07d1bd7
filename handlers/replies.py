"""Answering the user who acted: short ephemeral texts, and refusals that are audited."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from handlers.texts import t
from models import audit
from models.errors import DomainError
from models.org import Member

log = logging.getLogger("tsunagi.handlers")


def tell(client: WebClient, body: dict, text: str) -> None:
    """An ephemeral note to the user who clicked, where they clicked (else a DM)."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not answer the user: %s", exc.response.get("error"))


def message_for(error: DomainError) -> str:
    return t(error.code, **error.params)


def refuse(
    session: Session,
    *,
    at,
    slack_id: str,
    member: Member | None,
    action: str,
    reason: str,
    case_id: int | None = None,
) -> str:
    """Record a refused action in the audit log; return the explanation for the user."""
    audit.record(
        session,
        at=at,
        actor_slack_id=slack_id,
        actor_member_id=member.id if member else None,
        action=action,
        case_id=case_id,
        allowed=False,
        detail=reason,
    )
    return t(reason)
