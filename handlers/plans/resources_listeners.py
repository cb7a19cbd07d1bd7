"""The coordinator's list of participation resources (参加支援): `/tsunagi resources` opens it,
追加する adds one, each can be switched off and on. The list is redrawn from the database."""

from __future__ import annotations

import logging

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.common import deferred, forms
from handlers.common.commands import Reply
from handlers.common.replies import (
    Refused,
    acting,
    allowed,
    attempt,
    button_value,
    int_or_none,
    open_modal,
    require,
    show,
    submitted,
)
from handlers.common.services import services
from handlers.common.texts import t
from handlers.plans.resources_views import resource_add_modal, resources_modal
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases.access import Action
from models.plans import resources
from models.plans.resources import all_resources, use_by_resource
from models.plans.tables import Resource

log = logging.getLogger("tsunagi.handlers")


def resources_view(session):
    return resources_modal(all_resources(session), use_by_resource(session))


def resources_command(body: dict, client: WebClient, context: dict, args: list[str]):
    """`/tsunagi resources`: the coordinator's list of participation resources (参加支援),
    gathered and opened after the ack."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    try:
        with acting(svc.engine) as session:
            require(session, at=now, user=user, action=Action.manage_resources)
            view = resources_view(session)
    except Refused as exc:
        return Reply(exc.text)
    show(client, body, view)
    return None


def resources_in_words(body: dict, client: WebClient | None, context: dict, args: list[str]):
    """`/tsunagi resources` from someone the roster's copy does not know as the coordinator,
    answered by the worker: the refusal (audited); if the database says they are the
    coordinator after all (made so a moment ago), how to open the list."""
    svc = services(context)
    now = svc.clock()
    try:
        with acting(svc.engine) as session:
            require(session, at=now, user=body["user_id"], action=Action.manage_resources)
    except Refused as exc:
        return Reply(exc.text)
    return Reply(t("command.again", name="resources"))


# The list opens at the door for the coordinator; anyone else's answer comes from the worker
# (handlers/common/deferred.py).
LATER: dict[str, deferred.Later] = {
    "resources": deferred.Later(
        keep=lambda args, known: None if known is not None and known.coordinator else [],
        work=resources_in_words,
        door=resources_command,
    ),
}


def open_resource_add(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()

    def build(session, user, now):
        require(session, at=now, user=user, action=Action.manage_resources)
        return resource_add_modal()

    open_modal(client, context, body, build)


def submit_resource_add(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    def work(session, user, now):
        member = require(session, at=now, user=user, action=Action.manage_resources)
        row = resources.add_from_slack(
            session,
            name=forms.value(view, "name"),
            kind=forms.value(view, "kind"),
            description=forms.value(view, "description"),
        )
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_resources,
            detail=f"resource:{row.id}:added",
        )
        return row.id

    if submitted(ack, context, body, work, title=t("resource.title")) is None:
        return
    # Back on the list (the add form was pushed on top of it): close this one at once, then
    # redraw that one from the database (every resource: read after the ack).
    ack()
    previous = (body.get("view") or {}).get("previous_view_id")
    if previous:
        with transaction(services(context).engine, write=False) as session:
            listing = resources_view(session)
        update_quietly(client, previous, listing)


def toggle_resource(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    resource_id = int_or_none(button_value(body))

    def work(session, user, now):
        member = require(session, at=now, user=user, action=Action.manage_resources)
        row = session.get(Resource, resource_id) if resource_id else None
        if row is None:
            raise DomainError("resource.not_found")
        resources.set_active(session, row.id, active=not row.active)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_resources,
            detail=f"resource:{row.id}:{'on' if row.active else 'off'}",
        )
        return resources_view(session)

    listing = attempt(client, context, body, work)
    if listing is not None:
        update_quietly(client, (body.get("view") or {}).get("id"), listing)


def update_quietly(client: WebClient, view_id: str | None, view) -> None:
    """Redraw a list from the database; if the user closed it meanwhile, nothing is lost."""
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("could not update a view: %s", exc.response.get("error"))
