"""Socket Mode: Slack's envelopes over one WebSocket (used by `tsunagi run` and the tests).

Bolt's builtin client reconnects on its own only at its next ping check (`ping_interval`), so a
close frame or a reset left the bot deaf for about 9 s; here a watchdog (Keeper) reconnects
within a fraction of a second. `TSUNAGI_HEALTH_PORT` (off by default) serves `GET /healthz` on
127.0.0.1 with the socket's state, so a monitor can tell the socket is alive without asking Slack;
when it stays down longer than `TSUNAGI_SOCKET_ALERT_SECONDS` while the Web API answers, the
admins get one DM (Alarm), and one more when it is back.
"""

from __future__ import annotations

import json
import logging
import select
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_bolt.adapter.socket_mode import SocketModeHandler
from waitress.server import create_server

from bot.door import guard_envelopes
from bot.health import HealthCheck, probe
from bot.runtime import Runtime
from bot.server import shutdown
from models.base.clock import TOKYO
from models.base.db import transaction
from models.org.roster import channel_for, members_with_role
from models.org.tables import Role
from models.queues.outbox import enqueue

PING_INTERVAL = 5.0  # seconds; also how often the client checks that its session is alive
WATCH_INTERVAL = 0.25  # seconds between two looks at the socket (a poll(2), nothing sent)
ALERT_AFTER = 300.0  # seconds down (while the Web API answers) before the admins are told
_POLLRDHUP = getattr(select, "POLLRDHUP", 0)  # Linux: the peer shut its side down
HEALTH_PATH = "/healthz"
log = logging.getLogger("tsunagi.socket")


class SocketState:
    """What the monitor sees: connected or not, since when, how long ago the last message came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connected = False
        self.since: datetime | None = None  # connected since / down since
        self.last_message: float | None = None  # time.monotonic() of the last frame received

    def message(self, raw: str) -> None:
        with self._lock:
            self.last_message = time.monotonic()
            if not self.connected and '"hello"' in raw and _kind(raw) == "hello":
                self.connected, self.since = True, datetime.now(UTC)

    def lost(self) -> None:
        with self._lock:
            if self.connected:
                self.connected, self.since = False, datetime.now(UTC)

    def body(self) -> dict:
        with self._lock:
            age = None if self.last_message is None else time.monotonic() - self.last_message
            return {
                "socket": "connected" if self.connected else "disconnected",
                "since": self.since.isoformat(timespec="seconds") if self.since else None,
                "last_message_age_s": None if age is None else round(age, 1),
            }


def _kind(raw: str) -> str | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return message.get("type") if isinstance(message, dict) else None


def health_check(state: SocketState, database: HealthCheck, client=None) -> HealthCheck:
    def check() -> tuple[int, dict]:
        status, body = database()
        body.update(state.body())
        # The client pings every ping_interval; the age of the last pong shows the link is alive.
        session = client.current_session if client is not None else None
        pong = getattr(session, "last_ping_pong_time", None)
        body["last_pong_age_s"] = None if pong is None else round(time.time() - pong, 1)
        if body["socket"] != "connected":
            body["status"] = "unavailable"
            status = 503
        return status, body

    return check


def _health_app(check: HealthCheck):
    def application(environ, start_response):
        if environ.get("PATH_INFO") != HEALTH_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found\n"]
        status, body = check()
        payload = json.dumps(body).encode()
        line = "200 OK" if status == 200 else "503 Service Unavailable"
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        start_response(line, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    return application


@dataclass
class SocketMode:
    handler: SocketModeHandler
    state: SocketState
    keeper: Keeper
    health_server: object | None = None
    health_thread: threading.Thread | None = None

    @property
    def health_port(self) -> int | None:
        return self.health_server.effective_port if self.health_server else None

    def wait(self) -> None:
        threading.Event().wait()  # until KeyboardInterrupt (SIGINT/SIGTERM)

    def close(self) -> None:
        self.keeper.stop()
        self.handler.close()
        if self.health_server is not None:
            shutdown(self.health_server, self.health_thread)


def _peer_gone(sock) -> bool:
    """True when the peer closed or reset the TCP connection (nothing is read from it)."""
    try:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | _POLLRDHUP)
        events = poller.poll(0)
    except (OSError, ValueError):
        return True
    return any(ev & (select.POLLHUP | select.POLLERR | _POLLRDHUP) for _, ev in events)


class Keeper:
    """Keeps the socket up: the builtin client reads an EOF as "no data" and checks its session
    only every `ping_interval`, so a watchdog looks at the socket itself and reconnects at once
    (backing off while Slack cannot be reached)."""

    def __init__(
        self,
        handler: SocketModeHandler,
        state: SocketState,
        interval: float,
        alarm: Alarm | None = None,
    ):
        self.client = handler.client
        self.state = state
        self.interval = interval
        self.alarm = alarm
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="socket-keeper", daemon=True)

    def lost(self, *_args) -> None:
        self.state.lost()
        self.wake.set()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        backoff, next_try = self.interval, 0.0
        while not self.stopped.is_set():
            self.wake.wait(self.interval)
            self.wake.clear()
            if self.alarm is not None:
                self.alarm.tick()
            client = self.client
            if self.stopped.is_set() or client.closed or not client.auto_reconnect_enabled:
                continue
            session = client.current_session
            sock = session.sock if session is not None else None
            if sock is not None and not _peer_gone(sock):
                backoff = self.interval
                continue
            self.state.lost()
            if sock is not None:
                log.info("Socket Mode connection lost; reconnecting")
                session.disconnect()
            if time.monotonic() < next_try:
                continue
            try:
                client.connect_to_new_endpoint()
            except Exception as exc:  # Slack unreachable or the token refused: try again later
                log.warning("Socket Mode reconnect failed: %s", type(exc).__name__)
                next_try = time.monotonic() + backoff
                backoff = min(backoff * 2, 30.0)


class Alarm:
    """The admins hear of a dead socket: one DM each (through the outbox) when it has been down
    longer than `after` seconds while the Web API still answers — so the message can arrive and
    the fault is the socket's (a firewall, the app-level token) — and one when it is back."""

    def __init__(self, rt: Runtime, state: SocketState, after: float) -> None:
        self.rt, self.state, self.after = rt, state, after
        self.down_since: datetime | None = datetime.now(UTC)  # not connected yet counts
        self.told: datetime | None = None  # the start of the outage the admins were told of
        self.next_probe = 0.0

    def tick(self) -> None:
        try:
            self._tick()
        except Exception as exc:  # the database or Slack: try again at the next tick
            log.warning("Socket Mode alarm failed: %s", type(exc).__name__)

    def _tick(self) -> None:
        if self.state.connected:
            self.down_since = None
            if self.told is not None:
                self._tell("socket_back", self.told)
                self.told = None
            return
        if self.down_since is None:
            self.down_since = self.state.since or datetime.now(UTC)
        down = (datetime.now(UTC) - self.down_since).total_seconds()
        if self.told is not None or down < self.after or time.monotonic() < self.next_probe:
            return
        self.next_probe = time.monotonic() + min(self.after, 60.0)
        try:
            self.rt.client.auth_test()  # the Web API answers: the DM can reach them
        except Exception as exc:
            log.warning("Socket Mode down and the Web API unreachable: %s", type(exc).__name__)
            return
        self._tell("socket_down", self.down_since)
        self.told = self.down_since

    def _tell(self, kind: str, since: datetime) -> None:
        minutes = int((datetime.now(UTC) - since).total_seconds() // 60)
        local = since.astimezone(TOKYO)
        payload = {"since": f"{local.month}月{local.day}日{local:%H:%M}", "minutes": minutes}
        with transaction(self.rt.engine) as session:
            targets = [m.slack_id for m in members_with_role(session, Role.admin)]
            if not targets and (channel := channel_for(session, "admin")):
                targets = [channel]
            for target in targets:
                key = f"alert:{kind}:{since.isoformat(timespec='seconds')}:{target}"
                enqueue(
                    session,
                    key=key,
                    kind=kind,
                    target=target,
                    payload=payload,
                    at=self.rt.services.clock(),
                )
        log.warning("Socket Mode %s: %d admin(s) told", kind.removeprefix("socket_"), len(targets))
        self.rt.services.kick_delivery()  # the worker process's loop under `tsunagi run`


def start_socket_mode(
    rt: Runtime,
    app_token: str,
    *,
    ping_interval: float = PING_INTERVAL,
    health_port: int | None = None,
    watch_interval: float = WATCH_INTERVAL,
    alert_after: float = ALERT_AFTER,
) -> SocketMode:
    """Connect (apps.connections.open on the runtime's Web API base URL) and serve in threads."""
    handler = SocketModeHandler(
        rt.app, app_token, web_client=rt.client, ping_interval=ping_interval
    )
    guard_envelopes(handler.client)  # the same size cap and shape checks as HTTP
    state = SocketState()
    client = handler.client
    client.on_message_listeners.append(state.message)
    keeper = Keeper(handler, state, watch_interval, Alarm(rt, state, alert_after))
    client.on_close_listeners.append(keeper.lost)
    client.on_error_listeners.append(keeper.lost)
    mode = SocketMode(handler, state, keeper)
    if health_port is not None:
        scheduler = rt.worker or rt.scheduler
        check = health_check(
            state, probe(rt.engine, scheduler=scheduler, memo_store=rt.memo_store), client
        )
        server = create_server(
            _health_app(check), host="127.0.0.1", port=health_port, threads=1, ident="tsunagi"
        )
        mode.health_server = server
        mode.health_thread = threading.Thread(target=server.run, name="health", daemon=True)
        mode.health_thread.start()
    handler.connect()
    keeper.thread.start()
    return mode
