"""Small pieces the case desk's listeners share: answering where the user clicked, explaining a
domain refusal in words, opening a modal on top of another, and the after-action chores."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.replies import tell
from handlers.services import services
from handlers.texts import label, t
from handlers.views.common import notice_modal
from models.errors import DomainError

log = logging.getLogger("tsunagi.handlers")
STATE_PARAMS = ("state", "frm", "to")


def explain(error: DomainError) -> str:
    """The message of a domain refusal, with state keys shown as their Japanese names."""
    params = {
        k: label("state", v) if k in STATE_PARAMS and isinstance(v, str) else v
        for k, v in error.params.items()
    }
    return t(error.code, **params)


def _container(body: dict) -> tuple[str | None, str | None]:
    """('message' | 'modal' | 'home' | None, view id)."""
    container = body.get("container") or {}
    if container.get("type") == "message":
        return "message", None
    view = body.get("view") or {}
    if container.get("type") == "view" or view:
        return view.get("type") or "modal", view.get("id") or container.get("view_id")
    return None, None


def show(client: WebClient, body: dict, view) -> None:
    """Open a modal; on top of the modal the user clicked in (views.push), else a new one."""
    kind, _ = _container(body)
    try:
        if kind == "modal":
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        log.warning("could not open a modal: %s", exc.response.get("error"))


def answer(client: WebClient, body: dict, text: str, *, title: str | None = None) -> None:
    """Say something to the user who clicked: ephemeral under a message, a small modal over a
    modal or the Home tab (where nothing else would be seen), else a direct message."""
    kind, _ = _container(body)
    if kind in ("modal", "home") and body.get("trigger_id"):
        show(client, body, notice_modal(title or t("desk.notice_title"), text))
        return
    tell(client, body, text)


def after_action(client: WebClient, context: dict, user: str) -> None:
    """Send what the action queued, and bring the acting user's Home tab up to date."""
    from handlers.home import refresh_home

    services(context).kick_delivery()
    refresh_home(client, context, user)
