"""The message a つなぎメモ is made from (the message shortcut), read as the person wrote it.

Slack hands over its own markup: `&amp; &lt; &gt;`, `<@U…>`, `<#C…|name>`, `<https://…|label>`,
`<!here>` — and some messages carry their words only in blocks (rich_text, section). This module
turns them into plain text: escaping undone, people as `@display name` (users.info, cached; unknown
→ @不明なユーザー), channels as `#name`, links as `label（URL）`, special mentions as the words
Slack shows. Text put back into mrkdwn is escaped again where it is shown (handlers/common/mrkdwn).

Names are looked up after the shortcut is acknowledged, in parallel, within a time budget (the
trigger id lasts 3 seconds), and kept for an hour.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_all

from slack_sdk import WebClient

from handlers.common.texts import has, t

TOKEN = re.compile(r"<([^<>\n]+)>")
SENTENCE_END = "。！？!?\n"
BUDGET = 1.2  # seconds for all look-ups of one message; the trigger id lasts 3
TTL = 3600.0
_cache: dict[tuple[str, str, str], tuple[str | None, float]] = {}
_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="prefill")


def unescape(text: str) -> str:
    """Slack's three escapes undone (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- the words ----------------------------------------------------------------------------------


def _special(name: str, label: str) -> str:
    if name.startswith("subteam"):
        return label if label.startswith("@") else "@" + (label or t("memo.prefill.group"))
    if name.startswith("date"):
        return label or ""
    key = f"memo.prefill.special.{name}"
    return t(key) if has(key) else "@" + name


def _link(target: str, label: str) -> str:
    url, label = unescape(target), unescape(label)
    shown = url.removeprefix("mailto:")
    if not label or label in (url, shown):
        return shown
    return t("memo.prefill.link", label=label, url=shown)


def from_text(text: str, names: dict[str, str], channels: dict[str, str]) -> str:
    """Slack's mrkdwn `text` as plain words (`names`, `channels`: id -> name, resolved)."""

    def token(found: re.Match) -> str:
        target, _, label = found.group(1).partition("|")
        if target.startswith("@"):
            return "@" + names.get(target[1:], t("memo.prefill.unknown_user"))
        if target.startswith("#"):
            return "#" + (unescape(label) or channels.get(target[1:], target[1:]))
        if target.startswith("!"):
            return _special(target[1:].split("^")[0], unescape(label))
        return _link(target, label)

    out, last = [], 0
    for found in TOKEN.finditer(text):
        out.append(unescape(text[last : found.start()]))
        out.append(token(found))
        last = found.end()
    out.append(unescape(text[last:]))
    return "".join(out)


def _rich(element: dict, names: dict[str, str], channels: dict[str, str]) -> str:
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "user":
        return "@" + names.get(str(element.get("user_id")), t("memo.prefill.unknown_user"))
    if kind == "channel":
        channel = str(element.get("channel_id"))
        return "#" + channels.get(channel, channel)
    if kind == "link":
        return _link(str(element.get("url", "")), str(element.get("text") or ""))
    if kind == "broadcast":
        return _special(str(element.get("range", "here")), "")
    if kind == "usergroup":
        return "@" + t("memo.prefill.group")
    if kind == "emoji":
        return str((element.get("unicode") and _emoji(element["unicode"])) or "")
    if kind == "date":
        return str(element.get("fallback", ""))
    if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
        return "".join(_rich(e, names, channels) for e in element.get("elements", []))
    if kind == "rich_text_list":
        items = [_rich(e, names, channels) for e in element.get("elements", [])]
        return "\n".join("・" + item for item in items)
    return ""


def _emoji(code: str) -> str:
    try:
        return "".join(chr(int(part, 16)) for part in code.split("-"))
    except ValueError:
        return ""


def from_blocks(blocks: Iterable[dict], names: dict[str, str], channels: dict[str, str]) -> str:
    """The words of a message's rich_text and section blocks, one block a paragraph."""
    parts = []
    for block in blocks or ():
        if block.get("type") == "rich_text":
            inner = [_rich(e, names, channels) for e in block.get("elements", [])]
            parts.append("\n".join(p for p in inner if p))
        elif block.get("type") == "section" and isinstance(block.get("text"), dict):
            parts.append(from_text(str(block["text"].get("text", "")), names, channels))
    return "\n".join(p for p in parts if p)


def cut(text: str, limit: int) -> tuple[str, bool]:
    """`text` within `limit` characters: cut at the last sentence end that keeps most of it,
    marked 「…（以下略）」. (text, whether it was cut)."""
    if len(text) <= limit:
        return text, False
    mark = t("memo.prefill.cut_mark")
    head = text[: limit - len(mark)]
    end = max(head.rfind(c) for c in SENTENCE_END)
    if end >= len(head) // 2:
        head = head[: end + 1]
    return head.rstrip() + mark, True


# --- who is mentioned ---------------------------------------------------------------------------


def mentioned(message: dict) -> tuple[set[str], set[str]]:
    """The user ids and the channel ids (without a name) a message mentions."""
    users, channels = set(), set()
    for found in TOKEN.finditer(str(message.get("text") or "")):
        target, _, label = found.group(1).partition("|")
        if target.startswith("@"):
            users.add(target[1:])
        elif target.startswith("#") and not label:
            channels.add(target[1:])

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "user" and node.get("user_id"):
                users.add(str(node["user_id"]))
            elif node.get("type") == "channel" and node.get("channel_id"):
                channels.add(str(node["channel_id"]))
            elif node.get("type") == "section" and isinstance(node.get("text"), dict):
                found_u, found_c = mentioned({"text": node["text"].get("text", "")})
                users.update(found_u)
                channels.update(found_c)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return users, channels


def _user_name(client: WebClient, user: str) -> str | None:
    found = client.users_info(user=user).get("user") or {}
    profile = found.get("profile") or {}
    return (
        profile.get("display_name")
        or profile.get("real_name")
        or found.get("real_name")
        or found.get("name")
        or None
    )


def _channel_name(client: WebClient, channel: str) -> str | None:
    return (client.conversations_info(channel=channel).get("channel") or {}).get("name") or None


def _resolve(
    client: WebClient, kind: str, ids: set[str], lookup: Callable, deadline: float
) -> dict[str, str]:
    """id -> name for `ids`: from the cache, else looked up in parallel until `deadline`."""
    now, found, missing = time.monotonic(), {}, []
    for key in ids:
        with _lock:
            cached = _cache.get((client.base_url, kind, key))
        if cached is not None and cached[1] > now:
            if cached[0] is not None:
                found[key] = cached[0]
        else:
            missing.append(key)

    def one(key: str) -> None:
        try:
            name = lookup(client, key)
        except Exception:  # unknown, not allowed, network: shown as 不明 and not kept
            return
        with _lock:
            _cache[(client.base_url, kind, key)] = (name, time.monotonic() + TTL)
        if name:
            found[key] = name

    futures = [_pool.submit(one, key) for key in missing]
    if futures:
        wait_all(futures, timeout=max(0.0, deadline - time.monotonic()))
    return dict(found)


def readable(client: WebClient, message: dict, *, limit: int) -> tuple[str, bool]:
    """The message as the person wrote it, within `limit` characters: (text, cut)."""
    users, channel_ids = mentioned(message)
    deadline = time.monotonic() + BUDGET
    names = _resolve(client, "user", users, _user_name, deadline)
    channels = _resolve(client, "channel", channel_ids, _channel_name, deadline)
    text = from_text(str(message.get("text") or ""), names, channels)
    blocks = from_blocks(message.get("blocks") or [], names, channels)
    return cut(blocks if len(blocks) > len(text) else text, limit)
