"""The delivery loop: drains the outbox into Slack — retried, paced, never doubled.

Each round first does the clicks the door stored (handlers/common/deferred.py): claimed, done
once under the claim, retried, and answered after the last try; the answers and card updates
they queue go out in the same round."""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine

from bot.logging_safety import frames_only
from bot.partners import reach
from handlers.common import deferred
from handlers.common.reference import is_busy, reference_code
from handlers.common.services import Services
from handlers.notices.clicks import CLICKS, COMMANDS
from handlers.notices.kinds import render  # every notice kind's renderer
from handlers.notices.views import NotReady, Obsolete, Rendered
from models.base.clock import Clock
from models.base.db import transaction
from models.base.errors import DomainError
from models.queues import clicks, lease, outbox
from models.queues.tables import Click, Notice

log = logging.getLogger("tsunagi.delivery")
log_clicks = logging.getLogger("tsunagi.clicks")

LATE_AFTER = timedelta(minutes=10)  # older than this when sent: the message says it is late
NOT_READY_WAIT = timedelta(seconds=5)
KICK_GAP = 0.1  # seconds: wake-ups within this make one delivery round (see _loop)
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
METADATA_TYPE = "tsunagi_notice"
VERIFY_MARGIN = timedelta(seconds=5)  # history is read from this long before the first attempt
HISTORY_PAGE = 100  # messages per conversations.history call (Slack's default page)
HISTORY_MAX_CALLS = 100  # 10,000 messages since the first attempt; more: wait, never guess


def _retry_after(exc: SlackApiError) -> int:
    headers = exc.response.headers or {}
    value = headers.get("Retry-After", headers.get("retry-after", 1))
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


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
        kick_gap: float = KICK_GAP,
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.worker = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.channel_interval = channel_interval
        self.sleep = sleep
        self.monotonic = monotonic
        self.poll_seconds = poll_seconds
        self.kick_gap = kick_gap
        self._last_post: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one drain at a time in this process
        self.shared = reach.SharedChannels(client)  # case channels shared outside the town
        # What the stored clicks' work uses: the long lock wait (nobody waits on the worker).
        self.services = Services(engine, clock, self.kick, background=True)

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
            # Wake-ups close together make one round: each memo stored wakes us, and every round
            # takes the database's write lock (its claims), which the memos being stored wait for.
            self._stop.wait(self.kick_gap)
            self._wake.clear()

    def run_once(self) -> int:
        """Do the stored clicks (bot/clicks.py), then claim and send everything due now.
        Returns how many clicks and notices were handled."""
        handled = 0
        with self._lock:
            handled += run_clicks(self.services, self.worker)
            while not self._stop.is_set():
                token = lease.new_token(self.worker)  # fences this claim (models/queues/lease.py)
                batch = outbox.claim_due(self.engine, now=self.clock(), worker=token)
                if not batch:
                    break
                handled += self._run_batch(batch, token)
        return handled

    def _run_batch(self, batch: list[Notice], token: str) -> int:
        ids = [n.id for n in batch]
        handled = 0
        waiting: dict[str, datetime] = {}  # channel -> when its earlier message goes again
        with outbox.heartbeat(self.engine, ids, worker=token) as beat:
            posted = self._recover(batch)
            for i, notice in enumerate(batch):
                if self._stop.is_set():  # a normal stop: give the rest back at once
                    outbox.release(self.engine, ids[i:], worker=token)
                    break
                if notice.target in waiting:  # keep one channel's messages in order
                    outbox.mark_retry(
                        self.engine,
                        notice.id,
                        worker=token,
                        at=waiting[notice.target],
                        error="waiting",
                        count=False,
                    )
                else:
                    again = self._deliver(notice, token, posted)
                    if again is not None:
                        waiting[notice.target] = again
                beat.done(notice.id)
                handled += 1
        return handled

    # --- one notice -------------------------------------------------------------------------
    def _deliver(self, notice: Notice, token: str, posted: dict) -> datetime | None:
        """Send one notice; returns when it goes again, if it was put back."""
        now = self.clock()
        late_due = notice.due_at if now - notice.due_at > LATE_AFTER else None
        try:
            # Rendering only reads: it must not hold up memos being stored meanwhile.
            with transaction(self.engine, write=False) as session:
                rendered = render(session, notice, late_due=late_due)
        except NotReady:
            at = now + NOT_READY_WAIT
            outbox.mark_retry(
                self.engine, notice.id, worker=token, at=at, error="not_ready", count=False
            )
            return at
        except Obsolete as exc:
            outbox.mark_cancelled(self.engine, notice.id, worker=token, reason=str(exc))
            return None
        if self.shared.refuses(self.engine, notice):  # case information, outside the town
            self._give_up(notice, token, reach.SHARED_REFUSED)
            return None
        # An upload carries no metadata to look for, an ephemeral message is in no history:
        # after an ambiguous failure they go again.
        fresh_post = rendered.update_ts is None and rendered.file is None
        fresh_post = fresh_post and rendered.ephemeral_user is None
        if fresh_post and notice.verify:
            found = posted.get(_where(notice))
            if found is None:  # the channel could not be read to the end: do not guess
                at = now + outbox.backoff(1)
                outbox.mark_retry(
                    self.engine, notice.id, worker=token, at=at, error="verify_failed"
                )
                return at
            if notice.key in found:
                channel, ts = found[notice.key]
                outbox.mark_sent(
                    self.engine, notice.id, worker=token, at=self.clock(), channel=channel, ts=ts
                )
                return None
        if rendered.ephemeral_user is None:  # an answer only to one person is not a post
            self._pace(notice.target)
        # The fence: immediately before the call, is the claim still ours (and extended)?
        if not outbox.hold(self.engine, notice.id, worker=token):
            log.warning("notice %s: claim passed to another worker, left alone", notice.id)
            return None
        try:
            channel, ts = self._send(notice, rendered)
        except SlackApiError as exc:
            return self._failed_call(notice, token, exc)
        except (urllib.error.URLError, OSError, TimeoutError, SlackRequestError) as exc:
            # SlackRequestError: files_upload_v2 could not send the bytes to the upload URL
            return self._retry_or_give_up(notice, token, f"network: {type(exc).__name__}")
        outbox.mark_sent(
            self.engine, notice.id, worker=token, at=self.clock(), channel=channel, ts=ts
        )
        return None

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
        if r.ephemeral_user:  # only to them: where they clicked, or their door (partners/reach)
            channel = r.channel or notice.target
            resp = self.client.chat_postEphemeral(
                channel=channel, user=r.ephemeral_user, text=r.text, blocks=r.blocks
            )
            return channel, resp["message_ts"]
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
                thread_ts=r.thread_ts,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"key": notice.key}},
            )
        return resp["channel"], resp["ts"]

    # --- recovery: was it posted already? ----------------------------------------------------
    def _recover(self, batch: list[Notice]) -> dict[str, dict[str, tuple[str, str]] | None]:
        """For the batch's notices that may have reached Slack: one history walk per channel,
        from just before the earliest first attempt. target -> {key: (channel, ts)}, or None
        when the channel could not be read to the end."""
        starts: dict[str, datetime] = {}
        wall = lease.wall_now()
        for n in batch:
            if n.verify:
                # No first attempt noted (a backup from before it was sent): from its creation.
                since = n.first_attempt_at or min(n.created_at, wall)
                starts[_where(n)] = min(starts.get(_where(n), since), since)
        found: dict[str, dict[str, tuple[str, str]] | None] = {}
        for target, since in starts.items():
            try:
                found[target] = self._walk(target, since - VERIFY_MARGIN)
            except (SlackApiError, urllib.error.URLError, OSError, TimeoutError) as exc:
                log.warning("history of a channel could not be read: %s", type(exc).__name__)
                found[target] = None
        return found

    def _walk(self, target: str, oldest: datetime) -> dict[str, tuple[str, str]] | None:
        """Every tsunagi notice posted to `target` since `oldest`, following the cursor to the
        end (bounded; a 429 waits its Retry-After)."""
        channel, _, thread = target.partition("/")  # "C…/ts": a reply under that message
        if channel.startswith(("U", "W")):  # a direct message: its channel first
            try:
                channel = self.client.conversations_open(users=channel)["channel"]["id"]
            except SlackApiError as exc:
                if exc.response.get("error") in reach.DM_REFUSED:
                    return {}  # no DM can be opened: nothing was ever posted there
                raise
        read = self.client.conversations_replies if thread else self.client.conversations_history
        where = {"ts": thread} if thread else {}
        keys: dict[str, tuple[str, str]] = {}
        cursor: str | None = None
        for _ in range(HISTORY_MAX_CALLS):
            try:
                page = read(
                    channel=channel,
                    limit=HISTORY_PAGE,
                    include_all_metadata=True,
                    oldest=f"{oldest.timestamp():.6f}",
                    cursor=cursor,
                    **where,
                )
            except SlackApiError as exc:
                if exc.response.status_code != 429:
                    raise
                self.sleep(min(_retry_after(exc), 30))
                continue
            for message in page.get("messages", []):
                meta = message.get("metadata") or {}
                key = (meta.get("event_payload") or {}).get("key")
                if meta.get("event_type") == METADATA_TYPE and key:
                    keys[key] = (channel, message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return keys
        return None  # too long to read: the caller waits rather than guess

    def _pace(self, target: str) -> None:
        """At most one message per second per channel (Slack's documented pace of
        chat.postMessage). Ephemeral answers are not paced: a person who types three commands
        in a row should not wait two seconds for the third answer."""
        last = self._last_post.get(target)
        if last is not None:
            wait = self.channel_interval - (self.monotonic() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_post[target] = self.monotonic()

    def _failed_call(self, notice: Notice, token: str, exc: SlackApiError) -> datetime | None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429:
            at = self.clock() + timedelta(seconds=_retry_after(exc))
            outbox.mark_retry(
                self.engine, notice.id, worker=token, at=at, error="ratelimited", count=False
            )
            return at
        if status >= 500 or error in TRANSIENT_ERRORS:
            return self._retry_or_give_up(notice, token, error)
        if reach.pass_on(self.engine, notice, worker=token, error=error, at=self.clock()):
            self.kick()  # the same words, another way (a DM that cannot reach the referrer)
            return None
        self._give_up(notice, token, error)
        return None

    def _retry_or_give_up(self, notice: Notice, token: str, error: str) -> datetime | None:
        if notice.attempts >= outbox.MAX_ATTEMPTS:
            self._give_up(notice, token, error)
            return None
        at = self.clock() + outbox.backoff(notice.attempts)
        outbox.mark_retry(self.engine, notice.id, worker=token, at=at, error=error, maybe_sent=True)
        return at

    def _give_up(self, notice: Notice, token: str, error: str) -> None:
        log.warning("notice %s (%s) failed: %s", notice.id, notice.kind, error)
        if outbox.mark_failed(self.engine, notice.id, worker=token, error=error):
            with transaction(self.engine) as session:
                outbox.queue_failure_alert(session, notice, error=error, at=self.clock())
            self.kick()


def _where(notice: Notice) -> str:
    """Where a notice's message would be found: its channel, or "channel/ts" for a reply under
    the door (bot/partners/reach.py), which the channel's history does not show."""
    thread = notice.payload.get("thread_ts") if notice.kind == reach.REACH_KIND else None
    return f"{notice.target}/{thread}" if thread else notice.target


# --- the clicks the door stored ------------------------------------------------------------------


class _PassedOn(Exception):
    """The claim went to another worker meanwhile: roll back, leave the click alone."""


def run_clicks(svc: Services, worker: str) -> int:
    """Do every stored click (and subcommand) that is due. Returns how many were handled."""
    handled = 0
    while True:
        token = lease.new_token(worker)  # fences this claim (models/queues/lease.py)
        batch = clicks.claim_due(svc.engine, now=svc.clock(), worker=token)
        if not batch:
            return handled
        for click in batch:
            _run_click(svc, click, token)
            handled += 1


def _do(svc: Services, click: Click, token: str, now: datetime) -> bool:
    # An action this version does not know fails like a bug: retried, then answered.
    if click.action.startswith(deferred.COMMAND):
        command = COMMANDS[click.action.removeprefix(deferred.COMMAND)]
        return deferred.answer_command(svc, command, click, worker=token, now=now)
    build = CLICKS[click.action]
    with transaction(svc.engine) as session:
        if not deferred.do(session, build, click, worker=token, now=now):
            raise _PassedOn  # rolls the action back
    return True


def _run_click(svc: Services, click: Click, token: str) -> None:
    now = svc.clock()
    try:
        if not _do(svc, click, token, now):
            raise _PassedOn
    except _PassedOn:
        log_clicks.warning("click %s: claim passed to another worker, left alone", click.id)
    except Exception as exc:  # Busy is a DomainError: it is looked at first
        _after_error(svc, click, token, now, exc)


def _after_error(svc: Services, click: Click, token: str, now: datetime, exc: Exception) -> None:
    engine = svc.engine
    if is_busy(exc):  # a backup, a long writer: not the click's fault, so not an attempt
        log_clicks.info("click %s: the database is busy; again in a moment", click.id)
        at = now + clicks.backoff(1)
        clicks.retry(engine, click.id, worker=token, at=at, error="busy", count=False)
    elif isinstance(exc, DomainError):
        with transaction(engine) as session:
            deferred.refused(session, click, exc, worker=token, now=now)
    else:
        code = reference_code()
        log_clicks.error(
            "click failed [%s] (%s, attempt %s)\n%s",
            code,
            type(exc).__name__,
            click.attempts,
            frames_only((type(exc), exc, exc.__traceback__)),
        )
        if click.attempts < clicks.MAX_ATTEMPTS:
            at = now + clicks.backoff(click.attempts)
            clicks.retry(engine, click.id, worker=token, at=at, error=type(exc).__name__)
            return
        with transaction(engine) as session:
            deferred.failed(session, click, code=code, worker=token, now=now)
