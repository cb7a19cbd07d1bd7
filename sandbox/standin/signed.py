"""Requests as Slack sends them: signed, form-encoded or JSON, to the bot's real endpoint.

Used by the tests, the benchmark's load generator and the demo. Standard library only, one
keep-alive connection per client (not thread-safe: one SignedSlack per thread).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass

TEAM = {"id": "T0TEST", "domain": "tsunagi-test"}
_CLICKS = itertools.count(1)


def action_ts() -> str:
    """A click's own time stamp, as Slack gives each click (no two alike)."""
    return f"{int(time.time())}.{next(_CLICKS):06d}"


@dataclass
class Answer:
    status: int
    text: str

    def json(self) -> dict:
        return json.loads(self.text) if self.text else {}


class SignedSlack:
    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret
        parts = urllib.parse.urlsplit(url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._conn: http.client.HTTPConnection | None = None

    def sign(self, body: str, ts: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if ts is None else ts
        base = f"v0:{ts}:{body}".encode()
        digest = hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}

    def post(self, body: str, content_type: str, headers: dict | None = None, **sign) -> Answer:
        all_headers = {"Content-Type": content_type, **self.sign(body, **sign), **(headers or {})}
        for attempt in (1, 2):  # a kept-alive connection the server closed is opened again once
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=10)
            try:
                self._conn.request("POST", self._path, body=body.encode(), headers=all_headers)
                response = self._conn.getresponse()
                return Answer(response.status, response.read().decode("utf-8"))
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def command(self, user: str, text: str = "", *, trigger_id: str, channel="C0ANY") -> Answer:
        form = {
            "token": "unused",
            "team_id": TEAM["id"],
            "channel_id": channel,
            "user_id": user,
            "command": "/tsunagi",
            "text": text,
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": trigger_id,
            "api_app_id": "A0TSUNAGI",
        }
        return self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict, **kw) -> Answer:
        payload = {"team": TEAM, "api_app_id": "A0TSUNAGI", "token": "unused", **payload}
        body = urllib.parse.urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    def shortcut(self, user: str, *, trigger_id: str, callback_id="tsunagi_memo") -> Answer:
        return self.interaction(
            {
                "type": "shortcut",
                "callback_id": callback_id,
                "trigger_id": trigger_id,
                "user": {"id": user, "team_id": TEAM["id"]},
            }
        )

    def message_shortcut(
        self, user: str, *, trigger_id: str, text: str, channel="C0ANY", blocks=None
    ):
        message = {"type": "message", "text": text, "ts": "1700000000.000100"}
        if blocks is not None:
            message["blocks"] = blocks
        return self.interaction(
            {
                "type": "message_action",
                "callback_id": "tsunagi_memo_from_message",
                "trigger_id": trigger_id,
                "user": {"id": user, "team_id": TEAM["id"]},
                "channel": {"id": channel},
                "message": message,
                "message_ts": "1700000000.000100",
                "response_url": "http://127.0.0.1:9/unused",
            }
        )

    def submit(self, user: str, view: dict, values: dict) -> Answer:
        """Submit `view` (as opened in the stand-in) with `values` {block_id: value}."""
        view = {**view, "state": {"values": state_for(view, values)}}
        return self.interaction(
            {
                "type": "view_submission",
                "user": {"id": user, "team_id": TEAM["id"]},
                "trigger_id": "unused",
                "view": view,
            }
        )

    def click(self, user: str, message: dict, action_id: str, *, trigger_id: str) -> Answer:
        """Click the button `action_id` in a message the stand-in holds."""
        return self.interaction(click_payload(user, message, action_id, trigger_id=trigger_id))

    def event(self, event: dict, *, event_id: str, retry_num: int | None = None) -> Answer:
        body = json.dumps(
            {
                "token": "unused",
                "team_id": TEAM["id"],
                "api_app_id": "A0TSUNAGI",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, "application/json", headers=headers)


def state_for(view: dict, values: dict) -> dict:
    """Slack's view.state.values for the given answers, shaped by each block's element type."""
    state: dict = {}
    for block in view["blocks"]:
        if block.get("type") != "input" or block["block_id"] not in values:
            continue
        element = block["element"]
        value = values[block["block_id"]]
        kind = element["type"]
        if kind == "plain_text_input":
            entry = {"type": kind, "value": value}
        elif kind in ("static_select", "radio_buttons"):
            entry = {"type": kind, "selected_option": None if value is None else {"value": value}}
        elif kind == "multi_static_select":
            entry = {"type": kind, "selected_options": [{"value": v} for v in value]}
        else:
            raise AssertionError(f"unsupported element {kind}")
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def click_payload(
    user: str, message: dict, action_id: str, *, trigger_id: str, team: dict = TEAM
) -> dict:
    """The block_actions payload of a click on the button `action_id` in `message` (as the
    stand-in holds it), by `user` of `team` — the same for HTTP and Socket Mode."""
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return {
                    "type": "block_actions",
                    "user": {"id": user, "team_id": team["id"]},
                    "trigger_id": trigger_id,
                    "container": {"type": "message", "channel_id": message["channel"]},
                    "channel": {"id": message["channel"]},
                    "message": {"ts": message["ts"], "blocks": message["blocks"]},
                    "response_url": "http://127.0.0.1:9/unused",
                    "actions": [
                        {
                            "type": "button",
                            "action_id": action_id,
                            "block_id": block["block_id"],
                            "value": element.get("value"),
                            "action_ts": action_ts(),
                        }
                    ],
                }
    raise AssertionError(f"no button {action_id} in the message")
