"""The front door: every Slack request is measured, verified and shape-checked before Bolt sees it.

Order matters: the size from `Content-Length` first (nothing read), then exactly that many bytes,
then the signature over those bytes, then the shape of the payload (bot/shapes.py). The body is
parsed once, here, and handed to Bolt parsed (bot/server.py): a memo's form body is ~20 KB of
percent-escapes, and decoding it twice in pure Python was a quarter of the time a memo took. A
refusal logs one line with the reason and sizes only — never the body (Bolt's own verification
logs the whole body on a bad signature, so it is switched off in create_app and done here).

Socket Mode envelopes get the same cap and shape checks (`guard_envelopes`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import time
from collections.abc import Callable

from bot.shapes import Refusal, checked_envelope, parse

log = logging.getLogger("tsunagi.door")

# Slack's largest real payload for this app is a view_submission: the whole view (≤ 100 blocks;
# the memo modal is ~15 blocks, ~20 KB as sent) plus its state (the narrative and household
# inputs hold at most 3,000 characters each; Japanese text URL-encoded is up to 9 bytes per
# character, so ~55 KB). app_home_opened events carry the Home view (≤ 100 blocks, ~60 KB
# escaped). 256 KiB leaves room for twice the worst of these and is far below what would hurt.
MAX_BODY = 256 * 1024
MAX_AGE = 60 * 5  # Slack's own rule: a timestamp older than five minutes is a replay

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


def verify(secret: bytes, environ: dict, body: bytes, now: float) -> None:
    """Slack's signature: HMAC-SHA256 of `v0:{timestamp}:{body}`, over the bytes as they came
    (slack_sdk's check decodes the body first, and a body that is not UTF-8 raised there)."""
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
    mac = hmac.new(secret, b"v0:" + ts.encode("ascii", "replace") + b":" + body, hashlib.sha256)
    expected = b"v0=" + mac.hexdigest().encode()
    if not hmac.compare_digest(expected, signature.encode("latin-1", "replace")):
        raise Refusal(401, f"bad signature (timestamp age {age} s, {len(body)} bytes)")


# Where the parsed body travels from the door to Bolt (bot/server.py), beside the raw text.
PARSED_BODY = "tsunagi.slack_body"
RAW_BODY = "tsunagi.slack_raw_body"


def guarded(
    inner: Callable,
    *,
    signing_secret: str,
    cap: int = MAX_BODY,
    now: Callable[[], float] = time.time,
) -> Callable:
    """A WSGI app that passes only measured, signed, well-formed requests on to `inner`, with
    the parsed body in `environ[PARSED_BODY]` and its text in `environ[RAW_BODY]`."""
    secret = signing_secret.encode()

    def application(environ, start_response):
        try:
            length = announced_length(environ, cap)
            body = environ["wsgi.input"].read(length)  # exactly what was announced, no more
            verify(secret, environ, body, now())
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


# Socket Mode: the same cap and shapes for an envelope as it arrives, before it is queued.
_ENVELOPE_ID = re.compile(r'(?<!\\)"envelope_id"\s*:\s*"([^"\\]{1,200})"')


def envelope_too_big(message: str, cap: int = MAX_BODY) -> bool:
    return len(message) > cap or len(message.encode("utf-8")) > cap


def guard_envelopes(client, cap: int = MAX_BODY) -> None:
    """Wrap a slack_sdk SocketModeClient: an envelope over the cap, or one whose shape Bolt or a
    listener would fail on (bot/shapes.py), is acknowledged (so Slack does not send it again),
    logged in one line without its contents, and dropped."""
    enqueue = client.enqueue_message

    def acknowledge(envelope_id: str | None) -> None:
        if envelope_id:
            client.send_socket_mode_response({"envelope_id": envelope_id})

    def guarded_enqueue(message: str) -> None:
        if envelope_too_big(message, cap):
            log.warning(  # before the acknowledgement: whoever sees the answer finds the line
                "dropped a Socket Mode envelope: too large (%d characters, cap %d)",
                len(message),
                cap,
            )
            found = _ENVELOPE_ID.search(message)
            acknowledge(found.group(1) if found else None)
            return
        try:
            checked_envelope(message)
        except Refusal as refusal:
            log.warning("dropped a Socket Mode envelope: %s", refusal.reason)
            acknowledge(getattr(refusal, "envelope_id", None))
            return
        enqueue(message)

    client.enqueue_message = guarded_enqueue
