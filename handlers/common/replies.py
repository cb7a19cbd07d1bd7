"""Answering the user who acted, and the skeleton every listener shares.

A listener states only what is its own: `work(session, user, now)` — look the right up with
`require` (or `check`), call the domain, audit with `allowed`, return a view or a text. The
skeleton runs it in one transaction (`acting`) and answers the rest the same way everywhere:
- `attempt`: for a click; a refusal or a domain rule's "no" is answered only to the clicker;
- `open_modal`: `attempt`, then the returned modal is shown;
- `act`: `attempt`, then the action's chores and the returned text as the answer;
- `redraw`: a form redrawn as the user fills it in (a refusal waits for the submission);
- `submitted` / `submit`: for a form; a refusal replaces the form with a notice, a form error
  marks its fields, and `submit` shows the returned "done" modal.
A refusal (`Refused`) is audited, and that audit entry is committed though nothing else is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from handlers.common.blocks import notice_modal
from handlers.common.services import services
from handlers.common.texts import has, label, t
from handlers.home.listeners import refresh_home
from models.base.db import transaction
from models.base.errors import Busy, DomainError
from models.base.ids import id_or_none
from models.cases.access import Decision, decide
from models.ops import audit
from models.org.doors import door_channel_of
from models.org.roster import member_by_slack_id
from models.org.tables import Member

log = logging.getLogger("tsunagi.handlers")

T = TypeVar("T")
Work = Callable[[Session, str, datetime], T]  # (session, the acting user's Slack id, now)
STATE_PARAMS = ("state", "frm", "to")  # parameters of domain errors that name a case state


# --- reading what was clicked -------------------------------------------------------------------


def int_or_none(value: object) -> int | None:
    """An id from a button's value or a form's metadata; None for anything else."""
    return id_or_none(value)


def button_value(body: dict) -> object:
    return (body.get("actions") or [{}])[0].get("value")


# --- saying things -------------------------------------------------------------------------------


def tell(
    client: WebClient, body: dict, text: str, *, context: dict | None = None, modal: bool = True
) -> None:
    """A note only to the user who clicked, in the first place that reaches them:
    1. an ephemeral message in the channel where they clicked;
    2. no channel (a button in a modal or on the Home tab): a small modal on top of it;
    3. a direct message;
    4. when Slack refuses the DM (a person of another organisation: the town's app may not DM
       them, `invalid_user_combination`), an ephemeral message in their agency's door channel,
       where they are (needs `context`, for the database).
    `modal=False`: the caller has tried the modal already."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if channel and _said(lambda: client.chat_postEphemeral(channel=channel, user=user, text=text)):
        return
    if modal and _over(body) and show(client, body, notice_modal(t("desk.notice_title"), text)):
        return
    try:
        client.chat_postMessage(channel=user, text=text)
        return
    except SlackApiError as exc:
        error = exc.response.get("error")
    door = _door_of(context, user) if error in DM_REFUSED else None
    if door and _said(lambda: client.chat_postEphemeral(channel=door, user=user, text=text)):
        return
    log.warning("could not answer the user: %s", error)


# A DM that cannot be opened or is refused: it will never arrive, however often it is tried
# (here, and for notices in bot/partners/reach.py).
DM_REFUSED = frozenset(
    {
        "invalid_user_combination",  # Slack Connect: the app may not DM this external user
        "cannot_dm_bot",
        "channel_not_found",  # chat.postMessage to a user id that has no DM for this app
        "user_not_visible",
        "restricted_action",  # a workspace policy refuses it
        "not_allowed_token_type",
    }
)


def _said(call: Callable[[], object]) -> bool:
    try:
        call()
    except SlackApiError as exc:
        log.info("an answer could not be shown there: %s", exc.response.get("error"))
        return False
    return True


def _door_of(context: dict | None, user: str) -> str | None:
    if context is None:
        return None
    with transaction(services(context).engine, write=False) as session:
        return door_channel_of(session, user)


def message_for(error: DomainError) -> str:
    """The message of a domain refusal, with case-state keys shown as their Japanese names."""
    params = {
        k: label("state", v)
        if k in STATE_PARAMS and isinstance(v, str) and has(f"label.state.{v}")
        else v
        for k, v in error.params.items()
    }
    return t(error.code, **params)


def _container(body: dict) -> str | None:
    """Where the user clicked: 'message', 'modal', 'home' or None."""
    container = body.get("container") or {}
    if container.get("type") == "message":
        return "message"
    view = body.get("view") or {}
    if container.get("type") == "view" or view:
        return view.get("type") or "modal"
    return None


def show(client: WebClient, body: dict, view) -> bool:
    """Open a modal; on top of the modal the user clicked in (views.push), else a new one.
    False when Slack refused it (the trigger expired or was used)."""
    try:
        if _container(body) == "modal":
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        log.warning("could not open a modal: %s", exc.response.get("error"))
        return False
    return True


def answer(
    client: WebClient,
    body: dict,
    text: str,
    *,
    title: str | None = None,
    context: dict | None = None,
) -> None:
    """Say something to the user who clicked: ephemeral under a message, a small modal over a
    modal or the Home tab (where nothing else would be seen), else as `tell` can."""
    over = _over(body)
    if over and show(client, body, notice_modal(title or t("desk.notice_title"), text)):
        return
    tell(client, body, text, context=context, modal=not over)


def _over(body: dict) -> bool:
    """Clicked in a modal or on the Home tab, with a trigger to open a small modal on top."""
    return _container(body) in ("modal", "home") and bool(body.get("trigger_id"))


def after_action(client: WebClient, context: dict, body: dict) -> None:
    """Send what the action queued, and bring the acting user's Home tab up to date where it
    may be on their screen: after a click in the Home tab or in a modal, or a form sent (a
    modal may sit on the Home tab, which shows again when it closes). A click on a message in
    a channel leaves the Home tab alone: Slack sends app_home_opened when they look at it, and
    it is drawn afresh then. Drawing it after every click on a card cost a window member's
    burst of 引き受ける about 20 ms each (`tsunagi bench`: a busy window's desk is long)."""
    services(context).kick_delivery()
    if _container(body) != "message":
        refresh_home(client, context, body["user"]["id"])


# --- rights and the audit log --------------------------------------------------------------------


class Refused(Exception):
    """A right was refused: the text was audited and is shown to the user."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def refuse(
    session: Session,
    *,
    at,
    slack_id: str,
    member: Member | None,
    action: str,
    reason: str,
    case_id: int | None = None,
) -> str:
    """Record a refused action in the audit log; return the explanation for the user."""
    audit.record(
        session,
        at=at,
        actor_slack_id=slack_id,
        actor_member_id=member.id if member else None,
        action=action,
        case_id=case_id,
        allowed=False,
        detail=reason,
    )
    return t(reason)


def check(
    session: Session,
    decision: Decision,
    *,
    at,
    user: str,
    member: Member | None,
    action: str,
    case_id: int | None = None,
) -> Member:
    """The member, if `decision` allows; else Refused (the refusal audited)."""
    if not decision:
        raise Refused(
            refuse(
                session,
                at=at,
                slack_id=user,
                member=member,
                action=action,
                reason=decision.reason,
                case_id=case_id,
            )
        )
    return member


def require(session: Session, *, at, user: str, action: str, case=None, **scope) -> Member:
    """The acting member, looked up in the database, if `decide` allows `action` (on `case`;
    `scope`: meeting=, task=); else Refused (audited)."""
    member = member_by_slack_id(session, user)
    return check(
        session,
        decide(session, member, action, case, **scope),
        at=at,
        user=user,
        member=member,
        action=action,
        case_id=case.id if case is not None else None,
    )


def allowed(
    session: Session, *, at, member: Member, action: str, case_id=None, detail=None
) -> None:
    """Record an allowed action (a view of personal details, a change) in the audit log."""
    audit.record(
        session,
        at=at,
        actor_slack_id=member.slack_id,
        actor_member_id=member.id,
        action=action,
        case_id=case_id,
        allowed=True,
        detail=detail,
    )


@contextmanager
def acting(engine) -> Iterator[Session]:
    """One transaction for a user's action. A refusal (Refused, raised by `check` before
    anything is changed) still commits its audit entry, then propagates to be answered."""
    refused = None
    with transaction(engine) as session:
        try:
            yield session
        except Refused as exc:
            refused = exc
    if refused is not None:
        raise refused


# --- the skeleton of a listener ------------------------------------------------------------------


def attempt(client: WebClient, context: dict, body: dict, work: Work[T]) -> T | None:
    """`work(session, user, now)` in one transaction, for the user who clicked. Its result; or,
    when it was refused or a domain rule said no, None — that answered only to the user."""
    svc = services(context)
    try:
        with acting(svc.engine) as session:
            return work(session, body["user"]["id"], svc.clock())
    except Refused as exc:
        answer(client, body, exc.text, context=context)
    except DomainError as exc:
        answer(client, body, message_for(exc), context=context)
    return None


def open_modal(client: WebClient, context: dict, body: dict, build: Work) -> None:
    """Show the modal `build(session, user, now)` returns (see `attempt`)."""
    view = attempt(client, context, body, build)
    if view is not None:
        show(client, body, view)


def act(client: WebClient, context: dict, body: dict, work: Work[str]) -> None:
    """Do `work` (see `attempt`); when done, the chores (`after_action`) first — the answer
    then finds the Home tab up to date — and the text it returns as the answer. (A click on a
    channel message is done by the worker instead: handlers/common/deferred.py.)"""
    text = attempt(client, context, body, work)
    if text is not None:
        after_action(client, context, body)
        answer(client, body, text, context=context)


def redraw(client: WebClient, context: dict, body: dict, build: Work) -> None:
    """Redraw the modal the user is filling in with what `build(session, user, now)` returns
    (None: leave it as it is). A refusal says nothing here: submitting the form answers it."""
    svc = services(context)
    try:
        with acting(svc.engine) as session:
            view = build(session, body["user"]["id"], svc.clock())
    except (Refused, DomainError):
        return
    if view is None:
        return
    current = body.get("view") or {}
    try:  # the hash: a form changed meanwhile (another click) is not overwritten
        client.views_update(view_id=current.get("id"), hash=current.get("hash"), view=view)
    except SlackApiError as exc:
        log.info("could not redraw a form: %s", exc.response.get("error"))


FieldErrors = Callable[[dict[str, str]], dict[str, str]]


def busy_errors(view: dict) -> dict[str, str]:
    """The database stayed busy: said on the form's first field, so the input stays as it is."""
    inputs = [b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input"]
    return {inputs[0]: t("error.busy_form")} if inputs else {}


def submitted(
    ack,
    context: dict,
    body: dict,
    work: Work[T],
    *,
    title: str,
    field: str | Callable[[DomainError], dict[str, str]] | None = None,
    fields: FieldErrors | None = None,
) -> T | None:
    """`work(session, user, now)` in one transaction, for the user who submitted a form. Its
    result; or None when the form was answered instead:
    - a refusal replaces the form with a notice titled `title`;
    - a form error (a DomainError with `errors`: field -> message code) marks those fields,
      as `fields(errors)` says (default: each code's text on its field);
    - another domain refusal is shown on `field` (a block id, or a function of the error giving
      field -> text); without one, a notice titled `title` replaces the form."""
    svc = services(context)
    try:
        with acting(svc.engine) as session:
            return work(session, body["user"]["id"], svc.clock())
    except Refused as exc:
        ack(response_action="update", view=notice_modal(title, exc.text))
    except Busy:
        ack(response_action="errors", errors=busy_errors(body.get("view") or {}))
    except DomainError as exc:
        errors = getattr(exc, "errors", None)
        if isinstance(errors, dict):
            shown = fields(errors) if fields else {f: t(code) for f, code in errors.items()}
            ack(response_action="errors", errors=shown)
        elif callable(field):
            ack(response_action="errors", errors=field(exc))
        elif field:
            ack(response_action="errors", errors={field: message_for(exc)})
        else:
            ack(response_action="update", view=notice_modal(title, message_for(exc)))
    return None


def submit(ack, client: WebClient, context: dict, body: dict, work: Work, **how) -> None:
    """`submitted` (same options); when done, the modal `work` returned replaces the form and
    the chores follow (`after_action`)."""
    done = submitted(ack, context, body, work, **how)
    if done is not None:
        ack(response_action="update", view=done)
        after_action(client, context, body)
