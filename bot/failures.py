"""What the person is told when a listener fails, and the one log line that holds the traceback.

Both carry the same short reference code (e.g. E-7K3Q), so a staff member who reads it out on
the phone leads the operator to the right line. The line holds the traceback's frames and the
exception's type only: its message and locals may quote what the person typed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from slack_bolt import BoltResponse
from slack_sdk import WebClient

from bot.logging_safety import frames_only
from handlers.common import timely
from handlers.common.blocks import notice_modal
from handlers.common.bursts import Bursts, each
from handlers.common.reference import is_busy, reference_code
from handlers.common.replies import tell
from handlers.common.texts import t
from handlers.home.views import failed_home

log = logging.getLogger("tsunagi.app")


def _first_input_block(view: dict) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return block["block_id"]
    return None


def _tell(client: WebClient, body: dict, text: str, context: dict | None) -> None:
    """The same reach as every other answer (handlers/common/replies.tell): an ephemeral message
    where they clicked or typed, a small modal over the modal they clicked in, a DM — and for a
    person of another organisation, whom Slack refuses the town's app a DM, their agency's door
    channel (read from the database through `context`). The Home tab that failed to draw shows
    the failure itself."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    if isinstance(event, dict) and event.get("type") == "app_home_opened" and event.get("user"):
        client.views_publish(user_id=event["user"], view=failed_home(text))  # where they look
        return
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if not user:
        return
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    shaped = {**body, "user": {**(body.get("user") or {}), "id": user}}  # a slash command: user_id
    if channel and not body.get("channel"):
        shaped["channel"] = {"id": channel}
    tell(client, shaped, text, context=context)


def answer(
    error: Exception,
    body: dict,
    client: WebClient,
    response: BoltResponse | None,
    context: dict | None = None,
):
    """Log the failure under a reference code and tell the person (in the modal if still open)."""
    code = getattr(error, "reference", None) or reference_code()  # FailedElsewhere: its own
    body = body if isinstance(body, dict) else {}
    kind = body.get("type") or ("slash_command" if body.get("command") else None)
    busy = is_busy(error)
    log.error(
        "listener failed [%s] (%s, request %s)\n%s",
        code,
        type(error).__name__,
        kind,
        frames_only((type(error), error, error.__traceback__)),
    )
    try:
        return _answer(body, client, response, context, kind=kind, busy=busy, code=code)
    except Exception as exc:  # the answer itself failed: still no 500 and no second traceback
        log.warning("could not answer the failure [%s] (%s)", code, type(exc).__name__)
        return BoltResponse(status=200, body="") if response is not None else None


def _answer(body: dict, client, response, context, *, kind, busy: bool, code: str):
    reference = t("error.reference", ref=code)
    text = t("error.busy" if busy else "error.generic") + reference
    if response is not None:  # Slack has no answer yet: answered now, without a Slack call
        return _unanswered(body, client, context, kind=kind, busy=busy, text=text, ref=reference)
    if kind == "view_submission" and timely.told_late(context, text):
        return None  # the interim screen was showing: the failure took its place
    _tell(client, body, text, context)
    return None


def _unanswered(body: dict, client, context, *, kind, busy: bool, text: str, ref: str):
    """The answer Slack is waiting for; a note to the person, where one is needed besides,
    goes out after it (a Slack call here would hold the answer back)."""
    if kind == "view_submission":  # in the form: on its first field, else in its place
        block = _first_input_block(body.get("view") or {})
        if block:
            in_field = t("error.busy_form" if busy else "error.generic") + ref
            return _json({"response_action": "errors", "errors": {block: in_field}})
        view = notice_modal(t("error.title"), text).to_dict()
        return _json({"response_action": "update", "view": view})
    _notes.put(_Note(client, body, text, context))
    if kind == "block_suggestion":  # a select's options: an empty list, not a broken select
        return _json({"options": []})
    return BoltResponse(status=200, body="")  # answered, not shown by Slack as a broken app


def _json(answer: dict) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
    )


@dataclass(frozen=True)
class _Note:
    client: WebClient
    body: dict
    text: str
    context: dict | None


def _send(note: _Note) -> None:
    _tell(note.client, note.body, note.text, note.context)


# One thread sends the notes of failures answered before their Slack call.
_notes: Bursts[_Note] = Bursts("tsunagi-failure-notes", each("tell of a failure", _send))


def flush(timeout: float = 5.0) -> bool:
    """Every note of a failure sent (at a normal stop, and in tests)."""
    return _notes.flush(timeout)
