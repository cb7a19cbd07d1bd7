"""Identity is (team, user): a request is taken as the org file's member only when it comes from
the workspace the org file gives for them (`team`, and `enterprise` where given) — the town's own
when none is given. A request from a workspace nobody in the org file belongs to is refused
politely and logged with its team id (nothing personal).

One middleware in front of every listener, so no handler can forget it. It reads the roster's
in-memory copy (models/org/identities.py) before the acknowledgement (a refusal is answered in
it); everything else waits until after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.common.bursts import Bursts, each
from handlers.common.replies import tell
from handlers.common.services import Services, services
from handlers.common.texts import t
from handlers.partners.doors import town_name
from handlers.partners.views import refused_modal
from models.base.db import transaction
from models.ops import audit
from models.org.doors import Identity, recognised
from models.org.identities import roster

log = logging.getLogger("tsunagi.partners")

CHECKED = ("block_actions", "view_submission", "shortcut", "message_action")


def acting(body: dict) -> Identity | None:
    """Who acts, as Slack says it: the user, the workspace they act from, their organisation."""
    if not isinstance(body, dict):
        return None
    if body.get("command"):  # a slash command: the workspace it was typed in
        user = body.get("user_id")
        return Identity(user, body.get("team_id"), body.get("enterprise_id")) if user else None
    if body.get("type") not in CHECKED:
        return None  # events (App Home…) and option lists: nothing to authorise here
    user = body.get("user") or {}
    if not user.get("id"):
        return None
    team_of, org_of = _dict(body.get("team")), _dict(body.get("enterprise"))
    team = user.get("team_id") or team_of.get("id")
    enterprise = user.get("enterprise_id") or org_of.get("id") or team_of.get("enterprise_id")
    if isinstance(team, str) and team.startswith("E"):
        # Enterprise Grid gives the organisation's id in user.team_id; the workspace is the
        # payload's team when that team belongs to the same organisation, else unknown.
        enterprise = enterprise or team
        team = team_of.get("id") if team_of.get("enterprise_id") == enterprise else None
    return Identity(user["id"], team, enterprise)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def home_team(context: dict, body: dict) -> str | None:
    """The town's workspace: the one the app is installed in (auth.test), else the view's."""
    result = context.get("authorize_result")
    team = getattr(result, "team_id", None)
    if team:
        return team
    return ((body.get("view") or {}).get("app_installed_team_id")) or None


def check_identity(ack, body: dict, client: WebClient, context: dict, next) -> None:
    who = acting(body)
    if who is None:
        return next()
    home = home_team(context, body)
    svc = services(context)
    known = roster(svc.engine)  # in memory: no transaction before the acknowledgement
    member = known.members.get(who.user)
    ok = recognised(member, who, home_team=home)
    if ok and member is None and who.team is not None:  # a stranger: from where?
        ok = home is None or who.team == home or who.team in known.teams
    if ok:
        return next()
    with transaction(svc.engine, write=False) as session:  # a refusal: rare
        town = town_name(session)
    reason = "team_mismatch" if member is not None else "unknown_team"
    # The workspace's id only: nothing about the person.
    log.warning("a request from workspace %s was refused: %s", who.team, reason)
    text = t(f"partners.{reason}", town=town)
    answer = _ack(ack, body, text)
    member_id = member.member_id if member else None
    _refusals.put(_Refusal(svc, client, context, body, who.user, member_id, reason, text))
    return answer


@dataclass(frozen=True)
class _Refusal:
    """What is done after a refusal's answer: its audit row, and a note where one is seen."""

    svc: Services
    client: WebClient
    context: dict
    body: dict
    user: str
    member_id: int | None
    reason: str
    text: str


def _after_the_answers(burst: list[_Refusal]) -> None:
    """Slack has had its answers. One thread does this for every refusal (a flood of refused
    requests is a burst, not a thread each), their audit rows in one transaction."""
    for svc in {id(r.svc): r.svc for r in burst}.values():
        with transaction(svc.engine) as session:
            for r in (r for r in burst if r.svc is svc):
                audit.record(
                    session,
                    at=svc.clock(),
                    actor_slack_id=r.user,
                    actor_member_id=r.member_id,
                    action="identity",
                    allowed=False,
                    detail=f"partners.{r.reason}",
                )
    _show_each(burst)


def _show(r: _Refusal) -> None:
    _tell(r.body, r.client, r.context, r.text)


_show_each = each("show a refusal", _show)


_refusals: Bursts[_Refusal] = Bursts("tsunagi-refusal", _after_the_answers)


def flush(timeout: float = 5.0) -> bool:
    """Every refusal so far audited and told (at a normal stop, and in tests)."""
    return _refusals.flush(timeout)


def _ack(ack, body: dict, text: str):
    """The refusal in the acknowledgement itself where Slack shows one: the command's reply, or
    in place of the submitted form."""
    if body.get("command"):
        return ack(text=text)
    if body.get("type") == "view_submission":
        return ack(response_action="update", view=refused_modal(text).to_dict())
    return ack()


def _tell(body: dict, client: WebClient, context: dict, text: str) -> None:
    """After a click or shortcut: a note only to them where they clicked (a small modal over a
    modal; their door channel when a DM is refused), else a small modal."""
    if body.get("command") or body.get("type") == "view_submission":
        return
    if body.get("type") == "block_actions" and (body.get("channel") or body.get("container")):
        tell(client, body, text, context=context)
        return
    try:
        client.views_open(trigger_id=body.get("trigger_id"), view=refused_modal(text))
    except SlackApiError as exc:
        log.warning("a refusal could not be shown: %s", exc.response.get("error"))
