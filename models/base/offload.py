"""Heavy, pure computations in a short-lived child process.

numpy and scipy (the Link-net disclosure audit) and matplotlib (its chart) add about 80 MB to a
process once imported, and a long-running bot would keep them for good after its first monthly
post. The running bot therefore computes them in a fresh child process that exits afterwards
(`isolate()`, called by `tsunagi run`); tests and the other commands call the function directly.
The functions given must be importable and take and return picklable values (no sessions).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_isolated = False


def isolate(enabled: bool = True) -> None:
    global _isolated
    _isolated = enabled


def run(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(*args, **kwargs) — in a child process when isolated; its exceptions come back."""
    if not _isolated:
        return fn(*args, **kwargs)
    # spawn, not fork: a forked child would copy the bot's threads' locks mid-use.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args, **kwargs).result()
