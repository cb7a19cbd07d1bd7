"""What listeners need from the wiring: the database, the clock, and a nudge for delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

from sqlalchemy import Engine

from models.base.clock import Clock
from models.base.db import request_path, transaction
from models.base.dedup import first_delivery

CONTEXT_KEY = "tsunagi"


@dataclass(frozen=True)
class Services:
    engine: Engine
    clock: Clock
    kick_delivery: Callable[[], None]
    # The worker's (bot/delivery.py): nobody waits on its transactions, so they keep the long
    # lock wait even in a listener's own work (a deferred subcommand) instead of giving up.
    background: bool = False

    def __deepcopy__(self, memo: dict) -> Services:
        # Bolt deep-copies the context for lazy listeners; the wiring is shared, not copied.
        return self

    @cached_property
    def for_requests(self) -> Services:
        """The same, with the request path's short lock waits (models.db.request_path); the
        worker's as it is."""
        if self.background:
            return self
        return replace(self, engine=request_path(self.engine))


def services(context: dict) -> Services:
    """What a listener uses: a person is waiting, so its transactions wait briefly for locks."""
    return context[CONTEXT_KEY].for_requests


def first_delivery_of(context: dict, body: dict) -> bool:
    """False for an event Slack sends again (it retries what it thinks we missed): the database
    remembers which event ids were handled, across restarts and processes.

    Called inside an event listener, which Bolt runs after it has acknowledged the event; the
    check is a write and may wait for the lock, so it never runs before the acknowledgement."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if not event_id:
        return True
    svc = context[CONTEXT_KEY]
    with transaction(svc.engine) as session:
        return first_delivery(session, event_id, svc.clock())
