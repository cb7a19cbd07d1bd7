"""What listeners need from the wiring: the database, the clock, and a nudge for delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from models.clock import Clock

CONTEXT_KEY = "tsunagi"


@dataclass(frozen=True)
class Services:
    engine: Engine
    clock: Clock
    kick_delivery: Callable[[], None]


def services(context: dict) -> Services:
    return context[CONTEXT_KEY]
