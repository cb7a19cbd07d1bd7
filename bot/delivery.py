"""The delivery loop: drains the outbox into Slack — retried, paced, never doubled."""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine

import handlers.views.notice_kinds  # noqa: F401  (registers every notice renderer)
from handlers.views.notices import NotReady, Obsolete, Rendered, render
from models import outbox
from models.clock import Clock
from models.db import transaction
from models.outbox import Notice

log = logging.getLogger("tsunagi.delivery")

LATE_AFTER = timedelta(minutes=10)  # older than this when sent: the message says it is late
NOT_READY_WAIT = timedelta(seconds=5)
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
METADATA_TYPE = "tsunagi_notice"


class Delivery:
    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        clock: Clock,
        *,
        channel_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        poll_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.worker = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.channel_interval = channel_interval
        self.sleep = sleep
        self.monotonic = monotonic
        self.poll_seconds = poll_seconds
        self._last_post: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one drain at a time in this process

    # --- the loop ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tsunagi-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def kick(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the loop must survive a database hiccup
                log.error("delivery round failed: %s", type(exc).__name__)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def run_once(self) -> int:
        """Claim and send everything due now. Returns how many notices were handled."""
        handled = 0
        with self._lock:
            while batch := outbox.claim_due(self.engine, now=self.clock(), worker=self.worker):
                for notice in batch:
                    self._deliver(notice)
                    handled += 1
        return handled

    # --- one notice -------------------------------------------------------------------------
    def _deliver(self, notice: Notice) -> None:
        now = self.clock()
        late_due = notice.due_at if now - notice.due_at > LATE_AFTER else None
        try:
            # Rendering only reads: it must not hold up memos being stored meanwhile.
            with transaction(self.engine, write=False) as session:
                rendered = render(session, notice, late_due=late_due)
        except NotReady:
            outbox.mark_retry(
                self.engine,
                notice.id,
                worker=self.worker,
                at=now + NOT_READY_WAIT,
                error="not_ready",
                count=False,
            )
            return
        except Obsolete as exc:
            outbox.mark_cancelled(self.engine, notice.id, worker=self.worker, reason=str(exc))
            return
        try:
            # An upload carries no metadata to look for: after an ambiguous failure it goes again.
            fresh_post = rendered.update_ts is None and rendered.file is None
            if fresh_post and notice.verify and self._already_posted(notice):
                return
            self._pace(notice.target)
            channel, ts = self._send(notice, rendered)
        except SlackApiError as exc:
            self._failed_call(notice, exc)
            return
        except (urllib.error.URLError, OSError, TimeoutError, SlackRequestError) as exc:
            # SlackRequestError: files_upload_v2 could not send the bytes to the upload URL
            self._retry_or_give_up(notice, f"network: {type(exc).__name__}")
            return
        outbox.mark_sent(
            self.engine, notice.id, worker=self.worker, at=self.clock(), channel=channel, ts=ts
        )

    def _send(self, notice: Notice, r: Rendered) -> tuple[str, str]:
        if r.file is not None:  # files_upload_v2: get an upload URL, send the bytes, share
            resp = self.client.files_upload_v2(
                channel=notice.target,
                file=r.file.content,
                filename=r.file.filename,
                title=r.file.title,
                alt_txt=r.file.alt_text[:1000],
                initial_comment=r.text or None,
            )
            return notice.target, resp["files"][0]["id"]
        if r.update_ts:
            resp = self.client.chat_update(
                channel=r.channel, ts=r.update_ts, text=r.text, blocks=r.blocks
            )
        else:
            resp = self.client.chat_postMessage(
                channel=notice.target,
                text=r.text,
                blocks=r.blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"key": notice.key}},
            )
        return resp["channel"], resp["ts"]

    def _already_posted(self, notice: Notice) -> bool:
        """After an ambiguous failure, look in the channel for this notice before posting again."""
        channel = notice.target
        if channel.startswith(("U", "W")):
            channel = self.client.conversations_open(users=channel)["channel"]["id"]
        history = self.client.conversations_history(
            channel=channel,
            limit=100,
            include_all_metadata=True,
            oldest=f"{notice.created_at.timestamp() - 60:.6f}",
        )
        for message in history.get("messages", []):
            meta = message.get("metadata") or {}
            if meta.get("event_payload", {}).get("key") == notice.key:
                outbox.mark_sent(
                    self.engine,
                    notice.id,
                    worker=self.worker,
                    at=self.clock(),
                    channel=channel,
                    ts=message["ts"],
                )
                return True
        return False

    def _pace(self, target: str) -> None:
        """At most one message per second per channel (Slack's documented pace)."""
        last = self._last_post.get(target)
        if last is not None:
            wait = self.channel_interval - (self.monotonic() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_post[target] = self.monotonic()

    def _failed_call(self, notice: Notice, exc: SlackApiError) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = int(
                exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1))
            )
            outbox.mark_retry(
                self.engine,
                notice.id,
                worker=self.worker,
                at=self.clock() + timedelta(seconds=retry_after),
                error="ratelimited",
                count=False,
            )
        elif status >= 500 or error in TRANSIENT_ERRORS:
            self._retry_or_give_up(notice, error)
        else:
            self._give_up(notice, error)

    def _retry_or_give_up(self, notice: Notice, error: str) -> None:
        if notice.attempts >= outbox.MAX_ATTEMPTS:
            self._give_up(notice, error)
            return
        at = self.clock() + outbox.backoff(notice.attempts)
        outbox.mark_retry(
            self.engine, notice.id, worker=self.worker, at=at, error=error, maybe_sent=True
        )

    def _give_up(self, notice: Notice, error: str) -> None:
        log.warning("notice %s (%s) failed: %s", notice.id, notice.kind, error)
        if outbox.mark_failed(self.engine, notice.id, worker=self.worker, error=error):
            with transaction(self.engine) as session:
                outbox.queue_failure_alert(session, notice, error=error, at=self.clock())
            self.kick()
