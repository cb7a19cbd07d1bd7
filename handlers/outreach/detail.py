"""The target's modal (personal details: every opening is audited), the Home tab's menu on a
target's line, and `/tsunagi outreach` (register) / `/tsunagi outreach list` (labels only)."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from handlers.common.commands import Reply
from handlers.common.replies import Refused, acting, int_or_none, open_modal, refuse
from handlers.common.services import services
from handlers.common.texts import t
from handlers.outreach import views
from handlers.outreach.checks import audit_allowed, checked
from handlers.outreach.contact import show_contact_form
from handlers.outreach.create import create_form
from handlers.outreach.detail_views import detail_modal
from models.base.db import transaction
from models.cases.access import OutreachAction, decide_outreach
from models.org.roster import member_by_slack_id
from models.org.tables import Role
from models.outreach import listing as outreach_listing
from models.outreach.dates import today
from models.outreach.listing import detail, lines


def open_target(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    show_target(client, context, body, int_or_none(body["actions"][0].get("value")))


def show_target(client: WebClient, context: dict, body: dict, target_id: int | None) -> None:
    def build(session, user, now):
        member, target = checked(
            session, at=now, user=user, action=OutreachAction.view_detail, target_id=target_id
        )

        def may(action: OutreachAction) -> bool:
            return bool(decide_outreach(session, member, action, target=target))

        view = detail_modal(
            detail(session, target, now=now),
            can_log=may(OutreachAction.log_contact),
            can_pause=may(OutreachAction.pause),
            can_close=may(OutreachAction.close),
        )
        audit_allowed(
            session, at=now, member=member, action=OutreachAction.view_detail, target=target
        )
        return view

    open_modal(client, context, body, build)


def choose_from_menu(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """The App Home overflow: 接触を記録する / 詳しく見る."""
    ack()
    selected = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    what, _, target_id = selected.partition(":")
    if what == "log":
        show_contact_form(client, context, body, int_or_none(target_id))
    else:
        show_target(client, context, body, int_or_none(target_id))


# --- /tsunagi outreach ---------------------------------------------------------------------------


LIST_WORDS = ("list", "一覧")


def lists(args: list[str]) -> bool:
    """`/tsunagi outreach list`: an answer in words follows (the ack says it is working)."""
    return bool(args) and args[0].lower() in LIST_WORDS


def outreach_command(body: dict, client: WebClient, context: dict, args: list[str]):
    """`/tsunagi outreach`: register a target; `/tsunagi outreach list`: my targets (labels).
    Both after the ack: the form opens, or the list follows 「作成しています…」."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    sub = args[0].lower() if args else ""
    if sub in ("", "new", "登録"):
        try:
            with acting(svc.engine) as session:
                checked(session, at=now, user=user, action=OutreachAction.create)
        except Refused as exc:
            return Reply(exc.text)
        create_form(client, context, {"user": {"id": user}, **body}, case_id=None)
        return None
    if not lists(args):
        return Reply(t("outreach.list.usage"))
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide_outreach(session, member, OutreachAction.create)
        if member is None or not (decision or member.has(Role.coordinator)):
            text = refuse(
                session,
                at=now,
                slack_id=user,
                member=member,
                action=OutreachAction.view,
                reason=decision.reason,
            )
        else:
            found = lines(
                session,
                outreach_listing.targets_for(
                    session, member, include_ended=member.has(Role.coordinator)
                ),
                day=today(now),
            )
            text = views.list_text(found, everyone=member.has(Role.coordinator))
    return Reply(text)
