"""Outreach (アウトリーチ) in Slack: register a target, log contacts in a few taps, pause,
resume, close, and — when a contact brings consent — the move into the consent-based path.

Entry points: `/tsunagi outreach` (register) and `/tsunagi outreach list`, the App Home section
(登録する, and each target's menu: 接触を記録する / 詳しく見る), the case's detail modal
(アウトリーチの対象にする), and the 接触を記録する button on every outreach reminder.

One module per screen: create (registering), contact (logging a contact, the agenda offer),
state (pause / resume / close), detail (the target's modal, the menu, the command). Every
listener looks the clicking user up in the database and asks `models.cases.access
.decide_outreach` (handlers/outreach/checks.py): only the assigned agencies' workers and the
coordinator see a target or log a contact. A refusal changes nothing, is answered only to the
user and audited; every opening of a target's personal details is audited too.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.common import commands, deferred, ids
from handlers.outreach.contact import add_to_agenda, change_outcome, open_contact, submit_contact
from handlers.outreach.create import open_from_case, open_new, submit_create
from handlers.outreach.detail import choose_from_menu, lists, open_target, outreach_command
from handlers.outreach.state import STATE_ACTIONS, open_state, submit_state


def register(app: App) -> None:
    app.action(ids.ACTION_OUTREACH_NEW)(open_new)
    app.action(ids.ACTION_OUTREACH_FROM_CASE)(open_from_case)
    app.view(ids.VIEW_OUTREACH_CREATE)(submit_create)
    app.action(ids.ACTION_OUTREACH_OPEN)(open_target)
    app.action(ids.ACTION_OUTREACH_LOG)(open_contact)
    app.action(ids.ACTION_OUTREACH_MENU)(choose_from_menu)
    app.action(ids.ACTION_OUTREACH_OUTCOME)(change_outcome)
    app.view(ids.VIEW_OUTREACH_CONTACT)(submit_contact)
    for action_id in STATE_ACTIONS:
        app.action(action_id)(open_state)
    app.view(ids.VIEW_OUTREACH_STATE)(submit_state)
    app.action(ids.ACTION_OUTREACH_AGENDA)(add_to_agenda)
    command = LATER["outreach"]
    commands.add_slow(
        app,
        ("outreach", "アウトリーチ"),
        deferred.later("outreach", command),
        placeholder=deferred.in_words(command),
    )


# `/tsunagi outreach list` is answered by the worker (handlers/common/deferred.py); the form of
# `/tsunagi outreach` opens at the door (its trigger lasts 3 seconds).
LATER: dict[str, deferred.Later] = {
    "outreach": deferred.Later(
        keep=lambda args, known: ["list"] if lists(args) else None, work=outreach_command
    ),
}
