"""The shape of what Slack sends, checked before Bolt reads it (HTTP and Socket Mode alike).

Bolt takes a payload's ids (team, user, channel, enterprise) before its own error handling runs,
and a listener reads the fields its kind always has. A signed request with another shape — sent
by hand, by a broken proxy, or by a Slack change — would end in a 500 and a traceback (HTTP) or
an envelope left unacknowledged and sent again (Socket Mode). Here it is refused instead, with a
reason that names no value: the caller logs one line and answers 400 (or acknowledges).
"""

from __future__ import annotations

import binascii
import json
import re
import urllib.parse

from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context

INTERACTIVE_TYPES = {
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
}
EVENT_TYPES = {"event_callback", "url_verification"}
# Socket Mode envelopes that carry a request, and those that only say how the link is.
ENVELOPE_TYPES = {"events_api", "interactive", "slash_commands"}
LINK_TYPES = {"hello", "disconnect"}


class Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


# --- HTTP bodies ---------------------------------------------------------------------------------

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def unquote_plus(value: str) -> str:
    """urllib.parse.unquote_plus, done in C where it can be.

    A form value's `%XX` is quoted-printable's `=XX`, which binascii decodes in C (urllib loops in
    Python over every escape). Only for values where the two codings cannot differ: ASCII, no
    `=` or line break of their own, every `%` followed by two hex digits; others go to urllib.
    """
    if (
        not value.isascii()
        or "=" in value
        or "\r" in value
        or "\n" in value
        or _BAD_ESCAPE.search(value)
    ):
        return urllib.parse.unquote_plus(value)
    decoded = binascii.a2b_qp(value.replace("+", " ").replace("%", "="))
    return decoded.decode("utf-8", "replace")


def _form(text: str) -> dict[str, str]:
    """A form body as Bolt reads one (the last of repeated keys wins)."""
    if "&" not in text and text.startswith("payload="):  # every interaction: one big value
        return {"payload": unquote_plus(text[len("payload=") :])}
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
        raise Refusal(400, f"{what} not JSON") from None


def parse(content_type: str, body: bytes) -> dict:
    """The body as Bolt would read it, parsed once and checked; Refusal for what Bolt or a
    listener would fail on."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "not UTF-8") from None
    if not text.strip():
        raise Refusal(400, "empty body")
    if content_type.startswith("application/json") or text.startswith("{"):
        return checked_event(_json(text, "body"))
    form = _form(text)
    if "payload" in form:
        return checked_interaction(_json(form["payload"], "payload"))
    if "command" in form:
        return checked_command(form)
    if "ssl_check" in form:
        return form
    raise Refusal(400, "unknown form")


# --- the payloads, whichever way they came -------------------------------------------------------


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _dict_or_absent(payload: dict, *keys: str) -> bool:
    return all(payload.get(k) is None or isinstance(payload[k], dict) for k in keys)


def _readable_ids(payload: dict, what: str) -> dict:
    """Bolt reads the ids before anything else (outside its error handling): a payload whose
    ids it cannot read is refused here."""
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise Refusal(400, f"{what} with unreadable authorizations")
    try:
        build_context(BoltContext(), payload)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        raise Refusal(400, f"{what} with unreadable ids") from None
    return payload


def _kind_of(data: object, what: str, kinds: set[str]) -> str:
    """The payload's type, if it is an object of one of `kinds`."""
    if not isinstance(data, dict):
        raise Refusal(400, f"{what} {type(data).__name__}, not an object")
    kind = data.get("type")
    if kind not in kinds:
        raise Refusal(400, f"unknown {what} type")
    return kind


def checked_event(data: object) -> dict:
    kind = _kind_of(data, "event", EVENT_TYPES)
    if kind == "url_verification":
        return data
    event = data.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise Refusal(400, "event_callback without event")
    if event["type"] == "app_home_opened":  # the one event the app subscribes to
        for key in ("user", "channel", "tab"):
            if event.get(key) is not None and not isinstance(event[key], str):
                raise Refusal(400, f"app_home_opened with an unreadable {key}")
    return _readable_ids(data, "event")


def _has_user(payload: dict) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and _is_id(user.get("id"))


def checked_interaction(payload: object) -> dict:
    kind = _kind_of(payload, "payload", INTERACTIVE_TYPES)
    if not _has_user(payload):
        raise Refusal(400, f"{kind} without user")
    if not _dict_or_absent(payload, "team", "enterprise", "channel", "container", "message"):
        raise Refusal(400, f"{kind} with an unreadable team, channel or message")
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not (
            isinstance(view, dict)
            and isinstance(view.get("callback_id"), str)
            and isinstance(view.get("type"), str)
        ):
            raise Refusal(400, f"{kind} without view")
        state = view.get("state")
        if kind == "view_submission" and not (
            isinstance(state, dict) and isinstance(state.get("values"), dict)
        ):
            raise Refusal(400, "view_submission without state")
    if kind in ("block_actions", "block_suggestion"):
        _check_actions(payload, kind)
    if kind in ("shortcut", "message_action"):
        if not isinstance(payload.get("callback_id"), str):
            raise Refusal(400, f"{kind} without callback_id")
        if not _is_id(payload.get("trigger_id")):
            raise Refusal(400, f"{kind} without trigger_id")
    return _readable_ids(payload, kind)


def _check_actions(payload: dict, kind: str) -> None:
    if kind == "block_suggestion":
        if not isinstance(payload.get("action_id"), str):
            raise Refusal(400, "block_suggestion without action_id")
        return
    actions = payload.get("actions")
    if not (
        isinstance(actions, list)
        and actions
        and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        raise Refusal(400, "block_actions without actions")


def checked_command(form: object) -> dict:
    if not isinstance(form, dict):
        raise Refusal(400, f"command {type(form).__name__}, not an object")
    if not _is_id(form.get("user_id")):
        raise Refusal(400, "slash command without user")
    if not isinstance(form.get("command"), str) or not isinstance(form.get("text", ""), str):
        raise Refusal(400, "slash command without command")
    return form


# --- Socket Mode envelopes -----------------------------------------------------------------------

_CHECK = {
    "events_api": checked_event,
    "interactive": checked_interaction,
    "slash_commands": checked_command,
}


def checked_envelope(message: str) -> tuple[str | None, dict | None]:
    """(envelope_id, payload) of a request envelope; (None, None) for a frame about the link
    itself (hello, disconnect), which the client handles. Refusal for anything else: the
    envelope id is in `refusal.envelope_id` where one could be read, to acknowledge it."""
    frame = _json(message, "frame")
    if not isinstance(frame, dict):
        raise Refusal(400, f"frame {type(frame).__name__}, not an object")
    kind = frame.get("type")
    if kind in LINK_TYPES:
        return None, None
    envelope_id = frame.get("envelope_id")
    envelope_id = envelope_id if _is_id(envelope_id) else None
    try:
        if kind not in ENVELOPE_TYPES:
            raise Refusal(400, "unknown envelope type")
        if envelope_id is None:
            raise Refusal(400, "envelope without envelope_id")
        return envelope_id, _CHECK[kind](frame.get("payload"))
    except Refusal as refusal:
        refusal.envelope_id = envelope_id
        raise
