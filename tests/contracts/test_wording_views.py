"""Wording rules over what the bot rendered (issue 19, point 6): the TOML lint
(test_wording.py) sees each text with its placeholders; this one sees the texts as they reach
Slack, filled in. `tsunagi demo` plays a week through the real bot and the stand-in — every kind
of screen a person meets (memo form and receipt, case cards and their updates, the desk, Home,
meetings, plans, tasks, outreach, reminders acted on, Link-net, refusals) with Japanese names
and agency names — and every plain_text and mrkdwn text it sent is checked here: no ASCII space
between two Japanese characters, nor beside a person's name (「試験 包括子 さん」)."""

from __future__ import annotations

import re
import tomllib

import pytest

from sandbox.demo import org as demo_org
from sandbox.demo import story
from sandbox.demo.record import Kind
from sandbox.demo.run import run_demo
from tests.contracts.test_wording import JA

SENT = (Kind.message, Kind.update, Kind.ephemeral, Kind.reply, Kind.modal, Kind.modal_update)
SENT += (Kind.home,)
NAME = "\ue000"  # a private-use character standing for a person's name (not Japanese)
SPACED = [
    re.compile(f"{JA} +{JA}"),
    re.compile(f"{JA} +{NAME}|{NAME} +{JA}"),
    re.compile(f"<@U\\w+> +{JA}"),  # a mention: <@U…>さん
]
# Intended exceptions, each a pattern of the text around the space it allows:
# - mrkdwn markers touching Japanese need a space for Slack to render them (*R8-0001* を,
#   `/tsunagi` で, _注_ の): the space is beside the marker, so the two characters around it are
#   never both Japanese and the patterns above do not see it;
# - a person's name as the org file writes it (試験 包括子): masked before the check;
# - what people typed, shown back to them or to those entitled: a person's name and kana
#   (辰野 試験郎, たつの しけんろう, in the case's detail) and a meeting's place
#   (辰野町役場 2階 第1会議室, in its invitation and reminders): not the bot's words.
TYPED = (
    *(
        who[key]
        for who in (story.HOUSEHOLD, story.NEIGHBOUR)
        for key in ("person_name", "person_kana")
    ),
    "辰野町役場 2階 第1会議室",
)


def _names() -> list[str]:
    org = tomllib.loads(demo_org.ORG_TOML)
    people = [m["name"] for m in org.get("members", []) if " " in m.get("name", "")]
    return sorted([*people, *TYPED], key=len, reverse=True)


def texts_of(node) -> list[str]:
    """Every plain_text / mrkdwn text in a Block Kit structure (blocks, a view, an element)."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found += texts_of(value)
    elif isinstance(node, list):
        for value in node:
            found += texts_of(value)
    return found


def spaced(text: str, names: list[str]) -> list[str]:
    for name in names:
        text = text.replace(name, NAME)
    return [m.group(0) for pattern in SPACED for m in pattern.finditer(text)]


@pytest.fixture(scope="module")
def rendered() -> list[tuple[str, str]]:
    demo = run_demo()
    out = []
    for entry in demo.recording.entries:
        if entry.kind not in SENT:
            continue
        where = f"{entry.kind}:{entry.conversation or entry.user or ''}"
        out += [(where, entry.text)] if entry.text else []
        out += [(where, text) for text in texts_of(entry.blocks) + texts_of(entry.view)]
        out += [(where, text) for text in (entry.errors or {}).values()]
    return out


def test_the_demo_renders_enough_to_judge(rendered):
    assert len(rendered) > 500
    kinds = {where.split(":")[0] for where, _ in rendered}
    assert {"message", "update", "modal", "home"} <= kinds


def test_no_ascii_space_between_japanese_or_around_a_name_in_what_the_bot_sent(rendered):
    names = _names()
    assert len(names) > len(TYPED), "the demo's people have names with a space: masked"
    found = sorted({(hit, text[:80]) for where, text in rendered for hit in spaced(text, names)})
    assert found == [], "\n".join(map(repr, found))


def test_the_rendered_lint_sees_the_faults_of_the_issue():
    names = ["包括 花子"]
    assert spaced("12/21（月） です", names) == ["） で"]
    assert spaced("を 高齢者相談支援センター が引き受けました", names) == ["を 高", "ー が"]
    assert spaced("包括 花子 さん", names) == [f"{NAME} さ"]
    assert spaced("<@U0WIN1> さんが", names) == ["<@U0WIN1> さ"]
    assert spaced("包括 花子さん", names) == []  # the name itself keeps its space
    assert spaced("つなぎメモ *R8-0001* を引き受けました", names) == []  # bold needs its spaces
