"""What listeners need from the wiring: the database, the clock, and a nudge for delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

from sqlalchemy import Engine

from models.clock import Clock
from models.db import request_path

CONTEXT_KEY = "tsunagi"


@dataclass(frozen=True)
class Services:
    engine: Engine
    clock: Clock
    kick_delivery: Callable[[], None]

    def __deepcopy__(self, memo: dict) -> Services:
        # Bolt deep-copies the context for lazy listeners; the wiring is shared, not copied.
        return self

    @cached_property
    def for_requests(self) -> Services:
        """The same, with the request path's short lock waits (models.db.request_path)."""
        return replace(self, engine=request_path(self.engine))


def services(context: dict) -> Services:
    """What a listener uses: a person is waiting, so its transactions wait briefly for locks."""
    return context[CONTEXT_KEY].for_requests
