"""Slack Connect and guests in the stand-in, as Slack behaves (checked against Slack's docs; see
the README's section 「他の組織の方（Slack Connect・ゲスト）」).

- Users of another organisation carry their own workspace's team id. A DM to them cannot be
  opened by the town's app (`conversations.open`, or `chat.postMessage` to their user id:
  `invalid_user_combination`); an ephemeral message reaches them only in a channel they are in.
- A channel shared with another organisation says so in `conversations.info` (`is_shared`,
  `is_ext_shared`, `shared_team_ids`).
- Slack offers an app's slash commands and shortcuts to no one outside the workspace the app is
  installed in, nor to single-channel guests, nor to multi-channel guests unless the owner allows
  apps for them: `PartnerSlack` refuses them (`NotOffered`) before anything reaches the bot. What
  works for all of them: buttons on the bot's messages and the modals those clicks open.
- `pins.add` / `pins.list`, for the pinned door message.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.standin.signed import click_payload, state_for


class NotOffered(Exception):
    """Slack would not send this: the person is not offered the app's command or shortcut
    (what they see: 「/tsunagi は有効なコマンドではありません」)."""


def is_external(standin, user_id: str) -> bool:
    user = standin._users.get(user_id)
    return user is not None and user["team_id"] != standin.team_id


def refuse_dm(standin, user_id: str) -> None:
    if is_external(standin, user_id):
        standin._refuse("invalid_user_combination")


def refuse_ephemeral(standin, channel: str, user_id: str) -> None:
    info = standin._channels.get(channel)
    if info is None or not is_external(standin, user_id):
        return
    if user_id not in info["members"]:  # outside the town, only where they are a member
        standin._refuse("user_not_in_channel")


def shared_fields(standin, info: dict) -> dict:
    teams = list(info.get("shared_with") or [])
    external = [t for t in teams if t != standin.team_id]
    return {
        "is_shared": bool(teams),
        "is_ext_shared": bool(external),
        "is_org_shared": False,
        "shared_team_ids": [standin.team_id, *teams] if teams else [standin.team_id],
        "context_team_id": standin.team_id,
    }


def pins_add(standin, args: dict) -> dict:
    channel = standin._conversation(args.get("channel"))
    with standin._lock:
        standin._find_message(channel, args.get("timestamp"))
        pins = standin._channels[channel]["pins"]
        if args.get("timestamp") in pins:
            standin._refuse("already_pinned")
        pins.append(args.get("timestamp"))
    return {}


def pins_list(standin, args: dict) -> dict:
    channel = standin._conversation(args.get("channel"))
    with standin._lock:
        items = []
        for ts in standin._channels[channel]["pins"]:
            message = next(
                (m for m in standin._messages if m["channel"] == channel and m["ts"] == ts), None
            )
            if message is not None:
                public = standin._public_message(message)
                items.append({"type": "message", "channel": channel, "message": public})
        return {"items": copy.deepcopy(items)}


class PartnerSlack:
    """What a person of any kind can send, through either side of the stand-in (`sender`: a
    SignedSlack over HTTP or the SocketModeStandin): the payloads carry the person's own team id
    (and the town's as `app_installed_team_id` on views), and what Slack would not offer them is
    refused here with NotOffered."""

    def __init__(self, standin, sender, *, guests_may_use_apps: bool = False) -> None:
        self.standin = standin
        self.sender = sender
        self.guests_may_use_apps = guests_may_use_apps

    def _user(self, user_id: str) -> dict:
        return self.standin._users.get(user_id) or {"id": user_id, "team_id": self.standin.team_id}

    def _team(self, user_id: str) -> dict[str, Any]:
        team_id = self._user(user_id)["team_id"]
        return {"id": team_id, "domain": team_id.lower()}

    def _offered(self, user_id: str) -> None:
        user = self._user(user_id)
        if is_external(self.standin, user_id):
            raise NotOffered("commands and shortcuts are not offered to other organisations")
        if user.get("is_ultra_restricted"):
            raise NotOffered("single-channel guests cannot use commands or shortcuts")
        if user.get("is_restricted") and not self.guests_may_use_apps:
            raise NotOffered("the owner has not allowed apps for multi-channel guests")

    def command(self, user: str, text: str = "", *, trigger_id: str, channel="C0ANY"):
        self._offered(user)
        return self.sender.command(user, text, trigger_id=trigger_id, channel=channel)

    def shortcut(self, user: str, *, trigger_id: str):
        self._offered(user)
        return self.sender.shortcut(user, trigger_id=trigger_id)

    def _as(self, user: str, payload: dict) -> dict:
        team = self._team(user)
        return {**payload, "team": team, "user": {"id": user, "team_id": team["id"]}}

    def click(self, user: str, message: dict, action_id: str, *, trigger_id: str):
        payload = click_payload(user, message, action_id, trigger_id=trigger_id)
        return self.sender.interaction(self._as(user, payload))

    def submit(self, user: str, view: dict, values: dict):
        state = {"values": state_for(view, values)}
        view = {**view, "state": state, "app_installed_team_id": self.standin.team_id}
        payload = {"type": "view_submission", "trigger_id": "unused", "view": view}
        return self.sender.interaction(self._as(user, payload))
