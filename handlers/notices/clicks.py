"""Every click on a channel card, and every subcommand, that the worker does for the door
(handlers/common/deferred.py): the button's action id -> how its work is built from the stored
click; the subcommand's name -> its Later. Each feature lists its own (CLICKS, LATER) beside its
listeners; bot/delivery.py runs them."""

from __future__ import annotations

from handlers.common.deferred import Builder, Later
from handlers.desk import listeners as desk
from handlers.meetings import listeners as meetings
from handlers.outreach import listeners as outreach
from handlers.plans import resources_listeners as resources
from handlers.plans import task_listeners as plans

CLICKS: dict[str, Builder] = {**desk.CLICKS, **plans.CLICKS}
COMMANDS: dict[str, Later] = {  # subcommand name -> its Later
    **desk.LATER,
    **outreach.LATER,
    **meetings.LATER,
    **resources.LATER,
}
