"""A click on a channel card (引き受ける) is stored at the door and done by the worker.

The door's part is small: acknowledge, store the click (ids only: who, where, which button,
which case), wake the worker. The worker claims the click and does the action in one
transaction that also marks the click done under its claim (models/queues/clicks.py), and
queues the answer only to the person who clicked (handlers/common/click_reply.py). So a click
is never done twice, and one stored is done even after a crash or a Slack outage.

Why not in the door: the action is a dozen statements (the case, its history, the audit, the
cards to refresh), about ten times the door's own work for a click, and Python runs one thread
of a process at a time; done there, it made every other request wait (`tsunagi bench`, README).

Slash subcommands whose answer is a list in words (`/tsunagi mine`, `status R8-0001`,
`outreach list`) go the same way (`later`): the door's ack says 「作成しています…」, the worker
reads, writes what it audits, and queues the answer in the click's transaction. Only the
arguments the command needs are stored (a receipt number, a word), never other typed text.

The door stores clicks through one writer thread (`ClickStore`), several clicks per transaction
under a burst: the listener's thread is free at once, and the database's write lock, which the
worker takes for each action, is asked for once per burst rather than once per click (listener
threads waiting for it one by one had left none to acknowledge the next request). If the
database stays busy past the request path's bound, each person is told and nothing is stored.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import click_reply
from handlers.common.bursts import Bursts
from handlers.common.commands import Placeholder, SlowWork, deliver
from handlers.common.reference import is_busy, reference_code
from handlers.common.replies import Refused, Work, message_for, tell
from handlers.common.services import CONTEXT_KEY, Services, services
from handlers.common.texts import t
from models.base.db import joined, transaction
from models.base.errors import DomainError
from models.org.identities import Known, roster
from models.queues import clicks
from models.queues.tables import Click

log = logging.getLogger("tsunagi.clicks")

# The click's stored payload -> the action's work (session, user, now) -> the answer's text.
Builder = Callable[[dict], Work[str]]
COMMAND = "command:"  # a stored subcommand's action: command:<name>


@dataclass(frozen=True)
class Later:
    """A subcommand the worker answers in words. `keep(args, known)` gives the arguments to
    store, or None where this use is done at the door (a form to open: its trigger lasts 3
    seconds); `known` is the person as the roster's copy in memory knows them (no query before
    the ack), the rights being checked again where the work runs. `work` is the answer in words;
    `door`, where it differs, the work at the door (defaults to `work`)."""

    keep: Callable[[list[str], Known | None], list[str] | None]
    work: SlowWork
    door: SlowWork | None = None


def payload_of(body: dict, channel: str) -> dict:
    """What the worker needs of the click: ids only (the card's text stays in Slack)."""
    user = body["user"]
    action = body["actions"][0]
    return {
        "user": user["id"],
        "team": user.get("team_id"),
        "channel": channel,
        "value": action.get("value"),
        "click": click_reply.click_of(body),
    }


@dataclass(frozen=True)
class _Taken:
    """A click waiting for the writer: what to store, and how to tell the person if it cannot."""

    svc: Services
    client: WebClient
    context: dict
    body: dict
    action: str
    payload: dict
    # Done at the door instead when the database cannot take the click (a read-only
    # subcommand need not wait for a writer elsewhere, e.g. a backup); None: the person is told.
    fallback: Callable[[], None] | None = None

    @property
    def key(self) -> str:
        return f"click:{self.payload['user']}:{self.payload['click']}"[:200]


class ClickStore:
    """The door's one writer of clicks: takes them from the listeners, stores each burst in one
    transaction, wakes the worker (handlers/common/bursts.py)."""

    def __init__(self) -> None:
        self._bursts: Bursts[_Taken] = Bursts("tsunagi-clicks", self._store_burst)

    def put(self, taken: _Taken) -> None:
        self._bursts.put(taken)

    def flush(self, timeout: float) -> bool:
        """Wait until every click taken so far is stored (or its person told): at a normal stop,
        and in tests. False if that took longer than `timeout`."""
        return self._bursts.flush(timeout)

    def _store_burst(self, burst: list[_Taken]) -> None:
        for svc in {id(c.svc): c.svc for c in burst}.values():
            self._store(svc, [c for c in burst if c.svc is svc])

    def _store(self, svc: Services, burst: list[_Taken]) -> None:
        try:
            with transaction(svc.engine) as session:  # the request path's bounded wait
                for c in burst:
                    clicks.enqueue(
                        session, key=c.key, action=c.action, payload=c.payload, at=svc.clock()
                    )
        except Exception as exc:
            self._not_stored(burst, exc)
            return
        svc.kick_delivery()  # the worker's delivery round does the stored clicks first

    @staticmethod
    def _not_stored(burst: list[_Taken], exc: Exception) -> None:
        """Each person is told (busy: nothing changed, press again), or answered at the door
        where that needs no write. The log line has the count and the reference, no values."""
        busy = is_busy(exc)
        here = [c for c in burst if busy and c.fallback is not None]
        told = [c for c in burst if not (busy and c.fallback is not None)]
        code = reference_code()
        if told:
            log.error(
                "%s clicks not stored [%s] (%s)",
                len(told),
                code,
                type(exc).__name__,
                exc_info=None if busy else exc,
            )
        if here:
            log.warning("%s subcommands answered at the door: database busy", len(here))
        text = t("error.busy" if busy else "error.generic") + t("error.reference", ref=code)
        answers = [lambda c=c: tell(c.client, c.body, text, context=c.context) for c in told]
        for answer in [*answers, *(c.fallback for c in here)]:
            try:
                answer()
            except Exception as failed:
                log.warning("could not answer about an unstored click (%s)", type(failed).__name__)


_store = ClickStore()


def flush(timeout: float = 5.0) -> bool:
    """Every click taken so far stored (see ClickStore.flush)."""
    return _store.flush(timeout)


def take(client: WebClient, context: dict, body: dict) -> bool:
    """At the door: hand a click on a channel message to the writer, for the worker (a queue in
    memory: no database, no Slack call, so it may come before the ack). False when the click
    was not on a channel message (a modal, the Home tab): the listener does it itself."""
    channel = click_reply.clicked_channel(body)
    if not channel:
        return False
    action = body["actions"][0]["action_id"]
    svc = services(context)
    _store.put(_Taken(svc, client, context, body, action, payload_of(body, channel)))
    return True


def _kept(command: Later, body: dict, context: dict, args: list[str]) -> list[str] | None:
    known = roster(services(context).engine).members.get(body["user_id"])
    return command.keep(args, known)


def in_words(command: Later) -> Placeholder:
    """`commands.add_slow`'s placeholder for a Later: 「作成しています…」 where the worker will
    answer in words, nothing where a form opens at the door."""
    return lambda body, context, args: _kept(command, body, context, args) is not None


def later(name: str, command: Later) -> SlowWork:
    """The work `commands.add_slow` runs after the ack: store the subcommand for the worker (the
    ack said 「作成しています…」), or do it here when `keep` says so."""

    def store_or_do(body: dict, client: WebClient, context: dict, args: list[str]):
        kept = _kept(command, body, context, args)
        if kept is None:
            return (command.door or command.work)(body, client, context, args)
        user, channel = body["user_id"], body.get("channel_id") or body["user_id"]
        payload = {
            "user": user,
            "team": body.get("team_id"),
            "channel": channel,
            "args": kept,
            "click": str(body.get("trigger_id") or uuid.uuid4().hex),
        }
        shaped = {"user": {"id": user}, "channel": {"id": channel}}  # how `tell` reaches them

        def here() -> None:
            reply = command.work(body, client, context, args)
            if reply is not None:
                deliver(client, body, reply)

        svc = services(context)
        _store.put(_Taken(svc, client, context, shaped, COMMAND + name, payload, fallback=here))
        return None

    return store_or_do


def answer_command(svc: Services, command: Later, click: Click, *, worker: str, now) -> bool:
    """In the worker, in one transaction: the click done, the subcommand's answer (its
    transactions, written as at the door, joined to this one: what it audits is written once,
    whatever happens), the answer queued. False: the claim passed on (nothing is kept)."""
    p = click.payload
    body = {"user_id": p["user"], "channel_id": p["channel"], "team_id": p["team"]}
    with transaction(svc.engine) as session:
        if not clicks.finish(session, click.id, worker=worker, at=now):
            return False
        with joined(session):
            reply = command.work(body, None, {CONTEXT_KEY: svc}, list(p["args"]))
        if reply is not None and not clicks.restored(click):  # answered before the restore
            _answer(session, click, reply.text, now, blocks=reply.blocks)
    return True


def _answer(
    session: Session, click: Click, text: str, now: datetime, *, blocks: list[dict] | None = None
) -> None:
    p = click.payload
    click_reply.enqueue_answer(
        session,
        user=p["user"],
        channel=p["channel"],
        click=p["click"],
        text=text,
        blocks=blocks,
        at=now,
    )


def do(session: Session, build: Builder, click: Click, *, worker: str, now: datetime) -> bool:
    """In the worker, in one transaction: mark the click done, do its action, queue the answer.
    False when the claim passed to another worker (the caller rolls back). A domain rule's
    refusal (DomainError) propagates: its changes are rolled back, then `refused` answers it."""
    if not clicks.finish(session, click.id, worker=worker, at=now):
        return False
    try:
        text = build(click.payload)(session, click.payload["user"], now)
    except Refused as exc:  # raised before anything changed; its audit entry stays
        text = exc.text
    else:
        if clicks.restored(click):  # done again after a restore: it was answered before it
            log.info("click %s done again after a restore; not answered twice", click.id)
            return True
    _answer(session, click, text, now)
    return True


def refused(session: Session, click: Click, error: DomainError, *, worker: str, now) -> bool:
    """A domain rule said no (e.g. taken already): done, and the person is told why."""
    if not clicks.finish(session, click.id, worker=worker, at=now):
        return False
    _answer(session, click, message_for(error), now)
    return True


def failed(session: Session, click: Click, *, code: str, worker: str, now: datetime) -> bool:
    """It failed every attempt: given up, and the person is told, with the log's reference."""
    if not clicks.finish(session, click.id, worker=worker, at=now, error="failed"):
        return False
    _answer(session, click, t("error.generic") + t("error.reference", ref=code), now)
    return True
