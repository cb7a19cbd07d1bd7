"""Every click on a channel card that the worker does for the door (handlers/common/deferred.py):
the button's action id -> how its work is built from the stored click. Each feature lists its
own as CLICKS beside its listeners; bot/clicks.py runs them."""

from __future__ import annotations

from handlers.common.deferred import Builder
from handlers.desk import listeners as desk
from handlers.plans import task_listeners as plans

CLICKS: dict[str, Builder] = {**desk.CLICKS, **plans.CLICKS}
