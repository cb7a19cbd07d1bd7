"""The load generator: a separate process sending signed requests to 127.0.0.1, bounded in count
and time. Reads a JSON spec on stdin, prints a JSON result on stdout."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
import uuid

from handlers.common import ids
from handlers.intake.views import memo_modal
from models.org.tables import Agency
from sandbox.standin.signed import TEAM, SignedSlack, state_for

MEMO = {
    "person_name": "合成 太郎",
    "person_kana": "ごうせい たろう",
    "age_band": "75+",
    "contact": "0266-00-0000",
    "concerns": ["kaigo"],
    "narrative": "これは負荷試験用の合成データです。",
    "urgency": "normal",
    "consent_to_share": "yes",
}


def _trigger(control: str) -> str:
    request = urllib.request.Request(control + "trigger", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["trigger_id"]


def _card_click(spec: dict, action_id: str, value: str) -> dict:
    """A click on a button of a card the bot posted in a window's channel."""
    channel = spec["channel"]
    return {
        "type": "block_actions",
        "user": {"id": spec["clicker"], "team_id": TEAM["id"]},
        "trigger_id": "unused",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.000001"},
        "channel": {"id": channel},
        "message": {"ts": "1.000001", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "card",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def run(spec: dict) -> dict:
    if not spec["url"].startswith("http://127.0.0.1:"):
        raise SystemExit("the load generator only targets 127.0.0.1")
    deadline = time.monotonic() + spec["seconds"]
    remaining = [spec["count"]]
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    view = memo_modal(windows=[Agency(key="x", name="x", kind="window")], districts=[])
    state = state_for(view, MEMO)
    values = spec.get("values") or ["0"]  # the buttons' values (case ids), taken in turn
    turn = [0]

    def client() -> None:
        slack = SignedSlack(spec["url"], spec["secret"])
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            kind = spec["kind"]
            if kind == "command" or kind.startswith("command:"):
                trigger = _trigger(spec["control"])
                started = time.perf_counter()
                words = kind.partition(":")[2]
                # typed in a channel the bot is in, as staff do in their team's channel
                channel = spec["channel"]
                answer = slack.command(spec["user"], words, trigger_id=trigger, channel=channel)
            elif kind in ("shortcut", "message_shortcut"):
                trigger = _trigger(spec["control"])
                started = time.perf_counter()
                if kind == "shortcut":
                    answer = slack.shortcut(spec["user"], trigger_id=trigger)
                else:
                    answer = slack.message_shortcut(
                        spec["user"], trigger_id=trigger, text="負荷試験の合成メッセージです。"
                    )
            elif kind == "acknowledge":  # 受付/引き受け on a case card, by a window member
                with lock:
                    value = values[turn[0] % len(values)]
                    turn[0] += 1
                payload = _card_click(spec, ids.ACTION_CASE_ACKNOWLEDGE, value)
                started = time.perf_counter()
                answer = slack.interaction(payload)
            elif kind == "home":
                event = {"type": "app_home_opened", "user": spec["user"], "tab": "home"}
                started = time.perf_counter()
                answer = slack.event(event, event_id=f"EvB{uuid.uuid4().hex[:16]}")
            else:
                submitted = {**view, "id": f"VB{uuid.uuid4().hex[:16]}", "state": {"values": state}}
                payload = {
                    "type": "view_submission",
                    "user": {"id": spec["user"]},
                    "trigger_id": "unused",
                    "view": submitted,
                }
                started = time.perf_counter()
                answer = slack.interaction(payload)
            elapsed = time.perf_counter() - started
            ok = answer.status == 200 and (kind != "submit" or "errors" not in answer.text)
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(spec["clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors[0], "elapsed": time.perf_counter() - began}


def main() -> int:
    print(json.dumps(run(json.load(sys.stdin))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
