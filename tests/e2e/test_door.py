"""The front door (bot/door.py): size cap before reading, signature before parsing, malformed
payloads refused with one warning line — all through the bot's real HTTP endpoint."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import json
import logging
import socket
import time
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request.internals import parse_body
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot import door, shapes
from sandbox.standin.signed import TEAM
from tests.conftest import SIGNING_SECRET

FORM = "application/x-www-form-urlencoded"
USER = {"id": "U0PARTNER1", "team_id": TEAM["id"]}
VIEW = {"id": "V0TEST", "callback_id": "tsunagi_memo", "blocks": [], "private_metadata": ""}
SHORTCUT = {"type": "shortcut", "user": USER, "callback_id": "tsunagi_memo", "trigger_id": "t1"}


def form_payload(payload) -> str:
    raw = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return urllib.parse.urlencode({"payload": raw})


MALFORMED = {
    "form payload not JSON": (form_payload("not-json"), FORM),
    "empty body": ("", FORM),
    "blank body": ("   ", FORM),
    "payload a list": (form_payload([1, 2]), FORM),
    "payload null": (form_payload("null"), FORM),
    "payload a string": (form_payload('"x"'), FORM),
    "payload without type": (form_payload({"user": USER}), FORM),
    "payload of unknown type": (form_payload({"type": "mystery", "user": USER}), FORM),
    "view submission without user": (form_payload({"type": "view_submission", "view": VIEW}), FORM),
    "view submission without view": (form_payload({"type": "view_submission", "user": USER}), FORM),
    "view submission without state": (
        form_payload({"type": "view_submission", "user": USER, "view": VIEW}),
        FORM,
    ),
    "view submission with state values a list": (
        form_payload(
            {"type": "view_submission", "user": USER, "view": {**VIEW, "state": {"values": []}}}
        ),
        FORM,
    ),
    "user without id": (
        form_payload({"type": "block_actions", "user": {"name": "x"}, "actions": [{}]}),
        FORM,
    ),
    "block actions without actions": (form_payload({"type": "block_actions", "user": USER}), FORM),
    "shortcut without user": (
        form_payload({"type": "shortcut", "callback_id": "tsunagi_memo"}),
        FORM,
    ),
    "shortcut without callback id": (form_payload({"type": "shortcut", "user": USER}), FORM),
    "slash command without user": (
        urllib.parse.urlencode({"command": "/tsunagi", "text": "help", "team_id": "T0TEST"}),
        FORM,
    ),
    "form of unknown shape": (urllib.parse.urlencode({"foo": "bar"}), FORM),
    "JSON body not JSON": ("{not json", "application/json"),
    "JSON body a list": ("[]", "application/json"),
    "JSON body null": ("null", "application/json"),
    "JSON event of unknown type": ('{"type": "mystery"}', "application/json"),
    "event callback without event": ('{"type": "event_callback"}', "application/json"),
    # What Bolt reads before its own error handling (the ids), or a listener always reads.
    "JSON body nested deeper than Python's stack": (
        '{"type": "url_verification", "x": ' + "[" * 20_000,
        "application/json",
    ),
    "payload nested deeper than Python's stack": (
        form_payload('{"type": "block_actions", "x": ' + "[" * 20_000),
        FORM,
    ),
    **{
        f"shortcut with {key} {value!r}": (form_payload({**SHORTCUT, key: value}), FORM)
        for key, value in [
            ("team", 5),
            ("team", "T0TEST"),
            ("enterprise", 5),
            ("enterprise", "E0TEST"),
            ("channel", 5),
            ("authorizations", 5),
            ("authorizations", [1]),
        ]
    },
    "shortcut without trigger id": (
        form_payload({k: v for k, v in SHORTCUT.items() if k != "trigger_id"}),
        FORM,
    ),
    "message action whose message is a string": (
        form_payload({**SHORTCUT, "type": "message_action", "message": "x"}),
        FORM,
    ),
    "view submission without view type": (
        form_payload(
            {
                "type": "view_submission",
                "user": USER,
                "view": {**VIEW, "state": {"values": {}}},
            }
        ),
        FORM,
    ),
    "block actions with an empty action": (
        form_payload({"type": "block_actions", "user": USER, "actions": [{}]}),
        FORM,
    ),
    "block actions with a number for action id": (
        form_payload({"type": "block_actions", "user": USER, "actions": [{"action_id": 5}]}),
        FORM,
    ),
    "home opened by a user that is a number": (
        json.dumps(
            {
                "type": "event_callback",
                "event_id": "Ev0BAD",
                "event": {"type": "app_home_opened", "user": 5, "tab": "home"},
            }
        ),
        "application/json",
    ),
    "slash command with an empty user": (
        urllib.parse.urlencode({"command": "/tsunagi", "user_id": "", "team_id": "T0TEST"}),
        FORM,
    ),
}


def _records_at_debug(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "waitress", "urllib3", "tsunagi"):
        caplog.set_level(logging.DEBUG, logger=name)


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_signed_malformed_payload_is_refused_with_400_and_one_warning(bot, caplog, kind):
    _records_at_debug(caplog)
    body, content_type = MALFORMED[kind]
    answer = bot.signed.post(body, content_type)
    assert answer.status == 400, (kind, answer.status, answer.text)
    door_lines = [r for r in caplog.records if r.name == "tsunagi.door"]
    assert len(door_lines) == 1 and door_lines[0].levelno == logging.WARNING
    assert door_lines[0].getMessage().startswith("refused a request: ")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
    assert bot.slack.calls_to("views.open") == [] and bot.slack.messages() == []


def test_unsigned_garbage_is_refused_with_401_and_not_parsed(bot, caplog):
    _records_at_debug(caplog)
    answer = bot.signed.post(
        "payload=not-json", FORM, headers={"X-Slack-Signature": "v0=" + "0" * 64}
    )
    assert answer.status == 401
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tsunagi.door"]
    assert line.startswith("refused a request: bad signature (timestamp age ")
    assert "payload" not in line and "Traceback" not in caplog.text


@pytest.mark.parametrize("signed", [False, True])
def test_a_body_that_is_not_utf8_is_refused_without_a_traceback(bot, caplog, signed):
    """slack_sdk's check decodes the body as UTF-8 first: a body that is not (gzip, latin-1)
    once ended in a 500 and a traceback, for anyone, without the signing secret."""
    _records_at_debug(caplog)
    body = b"payload=\xff\xfe\x00"
    ts = str(int(time.time()))
    mac = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    signature = "v0=" + (mac.hexdigest() if signed else "0" * 64)
    conn = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlsplit(bot.url).port, timeout=10)
    try:
        headers = {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        conn.request("POST", urllib.parse.urlsplit(bot.url).path, body=body, headers=headers)
        status = conn.getresponse().status
    finally:
        conn.close()
    assert status == (400 if signed else 401)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tsunagi.door"]
    assert line.startswith("refused a request: ")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def test_a_signature_header_that_is_not_ascii_is_refused(bot, caplog):
    _records_at_debug(caplog)
    answer = bot.signed.post("payload=x", FORM, headers={"X-Slack-Signature": "v0=\xe9" * 20})
    assert answer.status == 401
    assert "Traceback" not in caplog.text


def test_a_request_without_signature_headers_is_refused(bot):
    conn_body = urllib.parse.urlencode({"command": "/tsunagi", "user_id": "U0COORD"})
    answer = _raw(bot, _request(conn_body.encode(), headers={}, length=len(conn_body)))
    assert answer.startswith(b"HTTP/1.1 401")


def test_a_valid_request_still_passes_the_door(bot):
    answer = bot.signed.command("U0COORD", "help", trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200 and "tsunagi の使い方" in answer.text


# --- the size cap -------------------------------------------------------------------------


def _request(body: bytes, *, headers: dict, length: int | None = None, path="/slack/events"):
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {FORM}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _raw(bot, data: bytes, *, send_all: bool = True) -> bytes:
    parts = urllib.parse.urlsplit(bot.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        try:
            sock.sendall(data)
            if send_all:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed before taking everything: fine
            pass
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and not send_all:
                break
        return b"".join(chunks)


def test_a_request_announcing_100_mb_is_refused_413_before_any_body_is_sent(bot):
    # Only the headers are sent: the answer comes without waiting for the 100 MB.
    answer = _raw(bot, _request(b"", headers={}, length=100_000_000), send_all=False)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_body_one_byte_over_the_cap_is_refused_413_and_one_at_the_cap_is_read(bot):
    over = ("payload=" + "a" * (door.MAX_BODY - 7)).encode()
    answer = _raw(bot, _request(b"", headers={}, length=len(over)), send_all=False)
    assert answer.startswith(b"HTTP/1.1 413")
    at_cap = over[:-1]
    headers = bot.signed.sign(at_cap.decode())
    answer = _raw(bot, _request(at_cap, headers=headers, length=len(at_cap)))
    assert answer.startswith(b"HTTP/1.1 400")  # read, signed, then refused as not JSON


def test_post_without_content_length_is_refused_411(bot):
    body = urllib.parse.urlencode({"command": "/tsunagi", "user_id": "U0COORD", "text": "help"})
    answer = _raw(bot, _request(b"", headers=bot.signed.sign(body)))
    assert answer.startswith(b"HTTP/1.1 411")


def test_a_body_longer_than_its_header_is_cut_at_content_length(bot):
    form = {
        "command": "/tsunagi",
        "text": "help",
        "user_id": "U0COORD",
        "channel_id": "C0COORD",
        "team_id": "T0TEST",
        "trigger_id": bot.slack.issue_trigger_id(),
        "response_url": "http://127.0.0.1:9/unused",
    }
    signed = urllib.parse.urlencode(form).encode()
    headers = bot.signed.sign(signed.decode())
    data = _request(signed + b"&text=mine&junk=" + b"x" * 1000, headers=headers, length=len(signed))
    answer = _raw(bot, data)
    # The signature covers exactly the announced bytes: had more been read it would not match.
    assert answer.startswith(b"HTTP/1.1 200")
    assert "tsunagi の使い方".encode() in answer


class _Untouchable(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")


def _call(app, environ):
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen.get("status", "passed"), body


def test_the_door_refuses_over_cap_before_reading_behind_any_wsgi_server():
    passed = []
    app = door.guarded(lambda e, s: passed.append(e) or [], signing_secret=SIGNING_SECRET)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(door.MAX_BODY + 1),
        "wsgi.input": _Untouchable(),
    }
    assert _call(app, environ)[0].startswith("413")
    environ["CONTENT_LENGTH"] = ""
    assert _call(app, environ)[0].startswith("411")
    environ["REQUEST_METHOD"] = "GET"
    assert _call(app, environ)[0].startswith("405")
    assert passed == []


def test_the_door_reads_exactly_the_announced_length():
    passed = []
    app = door.guarded(lambda e, s: passed.append(e["wsgi.input"].read()) or [], signing_secret="s")
    body = b"command=%2Ftsunagi&user_id=U0X"
    stream = io.BytesIO(body + b"&more=ignored")
    ts = str(int(time.time()))
    signature = SignatureVerifier("s").generate_signature(timestamp=ts, body=body)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": FORM,
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts,
        "HTTP_X_SLACK_SIGNATURE": signature,
        "wsgi.input": stream,
    }
    _call(app, environ)
    assert passed == [body] and stream.read() == b"&more=ignored"


# --- Socket Mode: the same cap on an envelope ----------------------------------------------


class _FakeSocketClient:
    def __init__(self):
        self.queued, self.acks = [], []

    def enqueue_message(self, message):
        self.queued.append(message)

    def send_socket_mode_response(self, response):
        self.acks.append(response)


def test_an_over_cap_socket_mode_envelope_is_acknowledged_and_dropped(caplog):
    client = _FakeSocketClient()
    door.guard_envelopes(client, cap=1000)
    click = {"type": "block_actions", "user": {"id": "U0WIN1"}, "actions": [{"action_id": "a"}]}
    small = json.dumps({"envelope_id": "e-small", "type": "interactive", "payload": click})
    big = json.dumps(
        {"envelope_id": "e-big", "type": "interactive", "payload": {"t": "辰野試験子" * 400}},
        ensure_ascii=False,
    )
    client.enqueue_message(small)
    client.enqueue_message(big)
    assert client.queued == [small]
    assert client.acks == [{"envelope_id": "e-big"}]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tsunagi.door"]
    assert line.startswith("dropped a Socket Mode envelope: too large")
    assert "辰野" not in caplog.text


def test_the_socket_mode_cap_wraps_bolts_real_client():
    app = App(client=WebClient(token="xoxb-test"), token_verification_enabled=False)
    handler = SocketModeHandler(app, "xapp-test")
    try:
        acks = []
        handler.client.send_socket_mode_response = acks.append
        door.guard_envelopes(handler.client, cap=100)
        handler.client.enqueue_message(json.dumps({"envelope_id": "e1", "payload": "x" * 200}))
        assert acks == [{"envelope_id": "e1"}]
        assert handler.client.message_queue.qsize() == 0
    finally:
        handler.client.close()


# --- the body is parsed once, as Bolt would parse it -----------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_the_fast_decoding_of_a_form_value_is_urllibs(text):
    encoded = urllib.parse.quote_plus(text)
    assert shapes.unquote_plus(encoded) == urllib.parse.unquote_plus(encoded) == text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab %+=\t_\r\n09AFaf\x00é"))
def test_odd_escapes_decode_as_urllib_decodes_them(raw):
    # Bad escapes, raw '=' or line breaks: the C path cannot be trusted there, urllib decides.
    assert shapes.unquote_plus(raw) == urllib.parse.unquote_plus(raw)


@pytest.mark.parametrize(
    "body",
    [
        form_payload({**SHORTCUT, "callback_id": "x", "text": "a&b=c+d%"}),
        urllib.parse.urlencode({"command": "/tsunagi", "user_id": "U1", "text": "payload あ"}),
        json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}}),
    ],
)
def test_the_door_parses_bodies_as_bolt_does(body):
    kind = "application/json" if body.startswith("{") else FORM
    ours = shapes.parse(kind, body.encode())
    if "command" in ours:  # Bolt reads a command whose text says "payload" as an empty body
        assert ours["text"] == "payload あ"
    else:
        assert ours == parse_body(body, kind)
