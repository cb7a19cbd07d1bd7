"""HTTP mode: Slack's requests at /slack/events, served by waitress (a production WSGI server).

Every request to /slack/events passes the front door first (bot/door.py): size cap, signature,
shape — then Bolt. waitress itself refuses a body over the cap (413) before reading it.

`GET /healthz` is for monitoring: 200 with `{"status": "ok", …}` when the database answers,
503 with `{"status": "unavailable", …}` when it does not (bot/health.py). The body holds
states only, never data.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.context.ack import Ack
from slack_bolt.listener import thread_runner
from slack_bolt.request.internals import build_context
from waitress import wasyncore
from waitress.server import create_server

from bot import door
from bot.health import HealthCheck
from bot.logging_safety import install as install_safe_logging

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
STATUS_LINES = {200: "200 OK", 503: "503 Service Unavailable"}

# --- Slack gets its answer as soon as a listener calls ack(), not at Bolt's next poll ----------
# Bolt runs a listener in its thread pool and the request's thread looks for the acknowledgement
# every 10 ms (slack_bolt/listener/thread_runner.py sleeps between looks): on average 5 ms added
# to every answer, and 100 wake-ups a second per waiting request. Here an ack() wakes the one
# thread waiting for it (an event per request: waking every waiting thread at each ack() cost
# the interpreter more than it saved under load); if a wake-up is missed, the look after the
# usual 10 ms still finds it.

_waiting = threading.local()  # the request thread's event: set by its request's ack()


class PromptAck(Ack):
    """Made in the thread that serves the request, which then waits for this ack() alone."""

    def __init__(self) -> None:
        super().__init__()
        self._acknowledged = threading.Event()
        _waiting.event = self._acknowledged

    def __call__(self, *args, **kwargs):
        response = super().__call__(*args, **kwargs)
        self._acknowledged.set()
        return response


class _TimeWithPromptSleep:
    """The `time` module as Bolt's listener runner sees it: its sleep ends at an ack()."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        acknowledged = getattr(_waiting, "event", None)
        if acknowledged is None:  # not a request of this door (Socket Mode, a lazy listener)
            time.sleep(seconds)
        else:
            acknowledged.wait(seconds)


def install_prompt_ack() -> None:
    thread_runner.time = _TimeWithPromptSleep()


class _ParsedRequest(BoltRequest):
    """A BoltRequest over a body the door has already parsed: Bolt would parse it again."""

    def __init__(self, *, raw_body: str, body: dict, headers: dict, query: str) -> None:
        super().__init__(body="", query=query, headers=headers)  # nothing for Bolt to parse
        self.raw_body = raw_body  # what a lazy listener's copy of the request parses again
        self.body = body
        self.context = build_context(BoltContext({"ack": PromptAck()}), body)


class _BoltBehindTheDoor(SlackRequestHandler):
    def dispatch(self, request):
        environ = request.environ
        return self.app.dispatch(
            _ParsedRequest(
                raw_body=environ[door.RAW_BODY],
                body=environ[door.PARSED_BODY],
                headers=request.get_headers(),
                query=request.query_string,
            )
        )


def _alive() -> tuple[int, dict]:
    return 200, {"status": "ok"}  # the process answers; no database check was wired


def wsgi_app(
    app: App,
    *,
    health: HealthCheck | None = None,
    signing_secret: str | None = None,
    max_body: int = door.MAX_BODY,
):
    install_safe_logging()
    install_prompt_ack()
    secret = app._signing_secret if signing_secret is None else signing_secret
    bolt = door.guarded(_BoltBehindTheDoor(app), signing_secret=secret, cap=max_body)
    check = health or _alive

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return bolt(environ, start_response)
        if path == HEALTH_PATH:
            status, body = check()
            payload = json.dumps(body).encode()
            start_response(
                STATUS_LINES.get(status, f"{status} Status"),
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(payload))),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [payload] if environ.get("REQUEST_METHOD", "GET") != "HEAD" else [b""]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]

    return application


def make_server(
    app: App,
    *,
    host: str = "0.0.0.0",
    port: int = 3000,
    threads: int = 4,
    health: HealthCheck | None = None,
    max_body: int = door.MAX_BODY,
):
    """A waitress server; `.run()` serves until `.close()`. port=0 picks a free port."""
    return create_server(
        wsgi_app(app, health=health, max_body=max_body),
        host=host,
        port=port,
        threads=threads,
        ident="tsunagi",
        # Refused from the header, before the body is read (waitress refuses `>=` its limit).
        max_request_body_size=max_body + 1,
    )


def shutdown(server, thread=None) -> None:
    """Stop a server whose `.run()` loops in another thread.

    Requests in flight finish first (their worker threads still need the loop to send the
    answer); then the sockets are closed from the loop's own thread, through waitress's
    trigger, so the loop ends instead of selecting on closed descriptors.
    """
    server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
    with contextlib.suppress(OSError):  # the loop has already stopped
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    if thread is not None:
        thread.join(timeout=5)
