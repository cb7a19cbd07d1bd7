"""The Socket Mode side of the Slack stand-in: `apps.connections.open` and a WebSocket server.

Slack's protocol as documented (api.slack.com/apis/socket-mode): the app calls
`apps.connections.open` with its app-level token (`xapp-…`) and connects to the URL it gets;
the server says `hello`, then sends envelopes (`slash_commands`, `interactive`, `events_api`)
that the app acknowledges with `{"envelope_id": …}` (plus a `payload` where
`accepts_response_payload` is true); `disconnect` asks the app to connect anew. An envelope left
unacknowledged is delivered again (events with `retry_attempt`/`retry_reason`).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.server import ServerConnection, serve

from .server import SlackStandin, _ApiError
from .signed import TEAM, click_payload, state_for

APP_ID = "A0TSUNAGI"


@dataclass
class Envelope:
    type: str
    payload: dict
    accepts_response_payload: bool
    attempts: list[str] = field(default_factory=list)  # envelope ids, one per delivery
    ack: dict | None = None
    done: threading.Event = field(default_factory=threading.Event)


class SocketModeStandin:
    """Attach to a running SlackStandin; `start()` opens the WebSocket server on 127.0.0.1."""

    def __init__(
        self,
        web: SlackStandin,
        *,
        app_token: str = "xapp-1-A0TSUNAGI-test",
        redeliver_after: float = 1.0,  # Slack waits longer; settable so tests take seconds
        max_retries: int = 3,
    ):
        self.web = web
        self.app_token = app_token
        self.redeliver_after = redeliver_after
        self.max_retries = max_retries
        self._lock = threading.RLock()
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self.connects = 0  # successful WebSocket handshakes with a valid ticket
        self.acks: list[dict] = []
        self._drop_acks = 0
        self._pending: dict[str, Envelope] = {}
        self._server = None
        self._thread: threading.Thread | None = None
        web.token_methods["apps.connections.open"] = self._connections_open

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SocketModeStandin:
        self._server = serve(self._serve, "127.0.0.1", 0, ping_interval=None, max_size=2**20)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-standin-socket", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            for conn in self.connections():
                with contextlib.suppress(Exception):
                    conn.close()
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server = None
        self.web.token_methods.pop("apps.connections.open", None)

    # ------------------------------------------------------------------ the Web API method

    def _connections_open(self, token: str, args: dict) -> dict:
        if token != self.app_token:
            bot_like = token == self.web.token or token.startswith(("xoxb-", "xoxp-"))
            raise _ApiError("not_allowed_token_type" if bot_like else "invalid_auth")
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"}

    # ------------------------------------------------------------------ the WebSocket side

    def _serve(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request else ""
        ticket = path.partition("ticket=")[2].partition("&")[0]
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)  # a ticket works once, as Slack's do
        if not valid:
            conn.close(code=1008, reason="invalid ticket")
            return
        with self._lock:
            self._connections.append(conn)
            self.connects += 1
            count = len(self._connections)
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": "applink-standin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": APP_ID},
        }
        try:
            conn.send(json.dumps(hello))
            for raw in conn:
                self._receive(raw)
        except Exception:
            pass  # a reset or closed connection simply ends; the app connects anew
        finally:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)

    def _receive(self, raw: str | bytes) -> None:
        message = json.loads(raw)
        envelope_id = message.get("envelope_id")
        with self._lock:
            if self._drop_acks > 0:
                self._drop_acks -= 1
                return  # as if the acknowledgement never reached Slack
            self.acks.append(message)
            envelope = self._pending.pop(envelope_id, None)
        if envelope is not None:
            envelope.ack = message
            envelope.done.set()

    def connections(self) -> list[ServerConnection]:
        with self._lock:
            return list(self._connections)

    def wait_connected(self, *, connects: int = 1, timeout: float = 10.0) -> None:
        """Wait until `connects` handshakes have happened in all and one connection is open."""
        self.web.wait_for(lambda: self.connects >= connects and self.connections(), timeout=timeout)

    # ------------------------------------------------------------------ faults

    def close(self, code: int = 1001, reason: str = "going away") -> None:
        """A close frame on every open connection."""
        for conn in self.connections():
            conn.close(code=code, reason=reason)

    def reset(self) -> None:
        """Drop every connection with a TCP reset (no close frame)."""
        for conn in self.connections():
            sock = conn.socket
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's `disconnect` message: `refresh_requested`, `link_disabled` or `warning`."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-standin"},
        }
        for conn in self.connections():
            with contextlib.suppress(Exception):
                conn.send(json.dumps(message))

    def drop_next_acks(self, count: int = 1) -> None:
        with self._lock:
            self._drop_acks += count

    # ------------------------------------------------------------------ envelopes

    def deliver(
        self, type_: str, payload: dict, *, accepts_response_payload: bool, timeout: float = 10.0
    ) -> Envelope:
        """Send an envelope, wait for its acknowledgement, deliver it again while none comes."""
        envelope = Envelope(type_, payload, accepts_response_payload)
        deadline = time.monotonic() + timeout
        while not envelope.done.is_set() and time.monotonic() < deadline:
            if len(envelope.attempts) > self.max_retries:
                break
            self._send(envelope)
            envelope.done.wait(min(self.redeliver_after, max(0.0, deadline - time.monotonic())))
        if not envelope.done.is_set():
            raise AssertionError(f"no acknowledgement for {type_} after {envelope.attempts}")
        return envelope

    def _send(self, envelope: Envelope) -> None:
        envelope_id = str(uuid.uuid4())
        retry = len(envelope.attempts)
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope.type,
            "payload": envelope.payload,
            "accepts_response_payload": envelope.accepts_response_payload,
        }
        if envelope.type == "events_api":
            message["retry_attempt"] = retry
            message["retry_reason"] = "timeout" if retry else ""
        with self._lock:
            self._pending[envelope_id] = envelope
            envelope.attempts.append(envelope_id)
        self.web.wait_for(self.connections, timeout=10)
        conn = self.connections()[-1]
        with contextlib.suppress(Exception):  # a dead connection: the retry goes to the next one
            conn.send(json.dumps(message, ensure_ascii=False))

    def send_raw(self, text: str) -> None:
        """A frame as it is, nothing waited for (what a broken proxy or a Slack change sends)."""
        self.web.wait_for(self.connections, timeout=10)
        self.connections()[-1].send(text)

    # ------------------------------------------------------------------ what users do

    def command(self, user: str, text: str = "", *, trigger_id: str, channel="C0ANY") -> dict:
        """A slash command; returns the acknowledgement's payload ({} when none)."""
        payload = {
            "token": "unused",
            "team_id": TEAM["id"],
            "team_domain": TEAM["domain"],
            "channel_id": channel,
            "user_id": user,
            "command": "/tsunagi",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": trigger_id,
        }
        return self._answer("slash_commands", payload)

    def interaction(self, payload: dict) -> dict:
        payload = {"team": TEAM, "api_app_id": APP_ID, "token": "unused", **payload}
        return self._answer("interactive", payload)

    def shortcut(self, user: str, *, trigger_id: str, callback_id="tsunagi_memo") -> dict:
        user_obj = {"id": user, "team_id": TEAM["id"]}
        return self.interaction(
            {
                "type": "shortcut",
                "callback_id": callback_id,
                "trigger_id": trigger_id,
                "user": user_obj,
            }
        )

    def message_shortcut(self, user: str, *, trigger_id: str, text: str, channel="C0ANY") -> dict:
        return self.interaction(
            {
                "type": "message_action",
                "callback_id": "tsunagi_memo_from_message",
                "trigger_id": trigger_id,
                "user": {"id": user, "team_id": TEAM["id"]},
                "channel": {"id": channel},
                "message": {"type": "message", "text": text, "ts": "1700000000.000100"},
                "message_ts": "1700000000.000100",
                "response_url": "http://127.0.0.1:9/unused",
            }
        )

    def submit(self, user: str, view: dict, values: dict) -> dict:
        view = {**view, "state": {"values": state_for(view, values)}}
        return self.interaction(
            {
                "type": "view_submission",
                "user": {"id": user, "team_id": TEAM["id"]},
                "trigger_id": "unused",
                "view": view,
            }
        )

    def click(self, user: str, message: dict, action_id: str, *, trigger_id: str) -> dict:
        return self.interaction(click_payload(user, message, action_id, trigger_id=trigger_id))

    def event(self, event: dict, *, event_id: str) -> Envelope:
        payload = {
            "token": "unused",
            "team_id": TEAM["id"],
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        return self.deliver("events_api", payload, accepts_response_payload=False)

    def _answer(self, type_: str, payload: dict) -> dict:
        envelope = self.deliver(type_, payload, accepts_response_payload=True)
        return (envelope.ack or {}).get("payload") or {}
