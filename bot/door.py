"""The front door: every Slack request is measured, verified and shape-checked before Bolt sees it.

Order matters: the size from `Content-Length` first (nothing read), then exactly that many bytes,
then the signature over those bytes, then the shape of the payload. The body is parsed once, here,
and handed to Bolt parsed (bot/server.py): a memo's form body is ~20 KB of percent-escapes, and
decoding it twice in pure Python was a quarter of the time a memo took. A refusal logs one line with
the reason and sizes only — never the body (Bolt's own verification logs the whole body on a bad
signature, so it is switched off in create_app and done here instead).

Socket Mode envelopes get the same cap (`cap_envelopes`).
"""

from __future__ import annotations

import binascii
import io
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("tsunagi.door")

# Slack's largest real payload for this app is a view_submission: the whole view (≤ 100 blocks;
# the memo modal is ~15 blocks, ~20 KB as sent) plus its state (the narrative and household
# inputs hold at most 3,000 characters each; Japanese text URL-encoded is up to 9 bytes per
# character, so ~55 KB). app_home_opened events carry the Home view (≤ 100 blocks, ~60 KB
# escaped). 256 KiB leaves room for twice the worst of these and is far below what would hurt.
MAX_BODY = 256 * 1024
MAX_AGE = 60 * 5  # Slack's own rule: a timestamp older than five minutes is a replay

INTERACTIVE_TYPES = {
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
}
EVENT_TYPES = {"event_callback", "url_verification"}


class Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


STATUS_LINES = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    411: "411 Length Required",
    413: "413 Payload Too Large",
}


def announced_length(environ: dict, cap: int) -> int:
    """The body's size from the header, refused before anything is read."""
    if environ.get("REQUEST_METHOD") != "POST":
        raise Refusal(405, "not a POST")
    raw = environ.get("CONTENT_LENGTH")
    if raw in (None, ""):
        raise Refusal(411, "no Content-Length")
    try:
        length = int(raw)
    except ValueError:
        raise Refusal(400, "unreadable Content-Length") from None
    if length < 0:
        raise Refusal(400, "unreadable Content-Length")
    if length > cap:
        raise Refusal(413, f"too large ({length} bytes announced, cap {cap})")
    return length


def verify(verifier: SignatureVerifier, environ: dict, body: bytes, now: float) -> None:
    ts = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not ts or not signature:
        raise Refusal(401, f"no signature headers ({len(body)} bytes)")
    try:
        age = int(now - int(ts))
    except ValueError:
        raise Refusal(401, f"unreadable timestamp ({len(body)} bytes)") from None
    if abs(age) > MAX_AGE:
        raise Refusal(401, f"stale timestamp (age {age} s, {len(body)} bytes)")
    if not verifier.is_valid(body=body, timestamp=ts, signature=signature):
        raise Refusal(401, f"bad signature (timestamp age {age} s, {len(body)} bytes)")


def _has_user(payload: dict) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and isinstance(user.get("id"), str) and bool(user["id"])


# Where the parsed body travels from the door to Bolt (bot/server.py), beside the raw text.
PARSED_BODY = "tsunagi.slack_body"
RAW_BODY = "tsunagi.slack_raw_body"

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


def parse(content_type: str, body: bytes) -> dict:
    """The body as Bolt would read it, parsed once; Refusal for what Bolt would fail on (a 500
    and a traceback), with a reason and never the body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "not UTF-8") from None
    if not text.strip():
        raise Refusal(400, "empty body")
    if content_type.startswith("application/json") or text.startswith("{"):
        return _check_json(text)
    form = _form(text)
    if "payload" in form:
        return _check_interaction(form["payload"])
    if "command" in form:
        if not form.get("user_id"):
            raise Refusal(400, "slash command without user")
        return form
    if "ssl_check" in form:
        return form
    raise Refusal(400, "unknown form")


def _check_json(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        raise Refusal(400, "not JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, f"JSON {type(data).__name__}, not an object")
    kind = data.get("type")
    if kind not in EVENT_TYPES:
        raise Refusal(400, "unknown event type")
    if kind == "event_callback" and not isinstance(data.get("event"), dict):
        raise Refusal(400, "event_callback without event")
    return data


def _check_interaction(raw: str) -> dict:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise Refusal(400, "payload not JSON") from None
    if not isinstance(payload, dict):
        raise Refusal(400, f"payload {type(payload).__name__}, not an object")
    kind = payload.get("type")
    if kind not in INTERACTIVE_TYPES:
        raise Refusal(400, "unknown payload type")
    if not _has_user(payload):
        raise Refusal(400, f"{kind} without user")
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            raise Refusal(400, f"{kind} without view")
        state = view.get("state")
        if kind == "view_submission" and not (
            isinstance(state, dict) and isinstance(state.get("values"), dict)
        ):
            raise Refusal(400, "view_submission without state")
    if kind in ("block_actions", "block_suggestion"):
        actions = payload.get("actions")
        if kind == "block_actions" and not (
            isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)
        ):
            raise Refusal(400, "block_actions without actions")
    if kind in ("shortcut", "message_action") and not isinstance(payload.get("callback_id"), str):
        raise Refusal(400, f"{kind} without callback_id")
    return payload


def guarded(
    inner: Callable,
    *,
    signing_secret: str,
    cap: int = MAX_BODY,
    now: Callable[[], float] = time.time,
) -> Callable:
    """A WSGI app that passes only measured, signed, well-formed requests on to `inner`, with
    the parsed body in `environ[PARSED_BODY]` and its text in `environ[RAW_BODY]`."""
    verifier = SignatureVerifier(signing_secret)

    def application(environ, start_response):
        try:
            length = announced_length(environ, cap)
            body = environ["wsgi.input"].read(length)  # exactly what was announced, no more
            verify(verifier, environ, body, now())
            parsed = parse(environ.get("CONTENT_TYPE", ""), body)
        except Refusal as refusal:
            log.warning("refused a request: %s", refusal.reason)
            text = f"{refusal.status}\n".encode()
            start_response(
                STATUS_LINES[refusal.status],
                [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))],
            )
            return [text]
        passed = dict(environ, CONTENT_LENGTH=str(len(body)))
        passed["wsgi.input"] = io.BytesIO(body)
        passed[PARSED_BODY] = parsed
        passed[RAW_BODY] = body.decode("utf-8")
        return inner(passed, start_response)

    return application


# Socket Mode: the same cap on an envelope as it arrives, before it is queued or parsed.
_ENVELOPE_ID = re.compile(r'(?<!\\)"envelope_id"\s*:\s*"([^"\\]{1,200})"')


def envelope_too_big(message: str, cap: int = MAX_BODY) -> bool:
    return len(message) > cap or len(message.encode("utf-8")) > cap


def cap_envelopes(client, cap: int = MAX_BODY) -> None:
    """Wrap a slack_sdk SocketModeClient: an over-cap envelope is acknowledged and dropped."""
    enqueue = client.enqueue_message

    def capped(message: str) -> None:
        if not envelope_too_big(message, cap):
            enqueue(message)
            return
        log.warning(  # before the acknowledgement: whoever sees the answer finds the line
            "dropped a Socket Mode envelope: too large (%d characters, cap %d)", len(message), cap
        )
        found = _ENVELOPE_ID.search(message)
        if found:  # acknowledged, so Slack does not send it again
            client.send_socket_mode_response({"envelope_id": found.group(1)})

    client.enqueue_message = capped
