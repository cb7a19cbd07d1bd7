"""`tsunagi manifest`: the Slack app manifest, for Socket Mode or for HTTP request URLs."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.server import EVENTS_PATH

MANIFEST = Path(__file__).parent / "manifest.yaml"


def manifest(http_url: str | None = None) -> str:
    text = MANIFEST.read_text(encoding="utf-8")
    if not http_url:
        return text
    data = yaml.safe_load(text)
    url = http_url.rstrip("/") + EVENTS_PATH
    data["settings"]["socket_mode_enabled"] = False
    data["settings"]["event_subscriptions"]["request_url"] = url
    data["settings"]["interactivity"]["request_url"] = url
    data["settings"]["interactivity"]["message_menu_options_url"] = url  # the cases select
    for command in data["features"]["slash_commands"]:
        command["url"] = url
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
