"""The message shortcut 「つなぎメモにする」 through signed requests and the strict stand-in: the
memo's narrative reads as the person wrote the message — escaping undone, people, channels, links
and special mentions in words, blocks read when the text is empty, a long message cut at a
sentence with 「…（以下略）」 and a line in the modal saying so."""

from __future__ import annotations

import pytest

from handlers.intake import prefill
from handlers.intake.prefill import cut, from_text


@pytest.fixture(autouse=True)
def fresh_names():
    """The names looked up are kept an hour per Slack URL, and the stand-in serves every test:
    a test before this one may have kept a user as unknown."""
    prefill._cache.clear()
    yield
    prefill._cache.clear()


def narrative_of(bot, *, text: str, blocks=None) -> tuple[str, dict]:
    before = len(bot.slack.views_opened())
    answer = bot.signed.message_shortcut(
        "U0WIN1", trigger_id=bot.slack.issue_trigger_id(), text=text, blocks=blocks
    )
    assert answer.status == 200
    view = bot.slack.wait_for(lambda: bot.slack.views_opened()[before:])[-1]
    narrative = next(b for b in view["blocks"] if b.get("block_id") == "narrative")
    return narrative["element"].get("initial_value", ""), view


def test_entities_read_as_written(bot):
    bot.slack.add_user("U0DEPT", name="税務 太郎", real_name="税務 太郎")
    bot.slack.add_channel("C0LINKNET", name="linknet")
    text = (
        "来週の見学会 &amp; 相談会の件です。会場は &lt;公民館&gt; です。"
        "<@U0DEPT> さんにも共有しました。<#C0LINKNET|linknet> と <#C0LINKNET> にも。"
        "詳細は <https://example.org|見学会> と <https://example.org/a?b=1&amp;c=2> へ。"
        "<!here> <@U0NOSUCHONE> より"
    )
    narrative, _ = narrative_of(bot, text=text)
    assert narrative == (
        "来週の見学会 & 相談会の件です。会場は <公民館> です。"
        "@税務 太郎 さんにも共有しました。#linknet と #linknet にも。"
        "詳細は 見学会（https://example.org） と https://example.org/a?b=1&c=2 へ。"
        "@here @不明なユーザー より"
    )
    # The names were asked of Slack after the acknowledgement, once each (then cached).
    assert [c.args["user"] for c in bot.slack.calls_to("users.info")].count("U0DEPT") == 1
    narrative_of(bot, text="<@U0DEPT> へ")
    assert [c.args["user"] for c in bot.slack.calls_to("users.info")].count("U0DEPT") == 1


def test_a_message_with_blocks_only_is_read_from_its_blocks(bot):
    bot.slack.add_user("U0DEPT2", name="包括 花子")
    blocks = [
        {
            "type": "rich_text",
            "block_id": "b1",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "user", "user_id": "U0DEPT2"},
                        {"type": "text", "text": " さんから相談 & 連絡 <至急>。"},
                        {"type": "link", "url": "https://example.org", "text": "案内"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "一"}]},
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "二"}]},
                    ],
                },
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "補足 &amp; 以上"}},
    ]
    narrative, _ = narrative_of(bot, text="", blocks=blocks)
    assert narrative == (
        "@包括 花子 さんから相談 & 連絡 <至急>。案内（https://example.org）"
        "\n・一\n・二\n補足 & 以上"
    )


def test_an_overlong_message_is_cut_at_a_sentence_and_the_modal_says_so(bot):
    sentence = "これは長い相談の記録の一文です。"  # 16 characters
    text = sentence * 235 + "最後の文"  # 3,764 characters
    narrative, view = narrative_of(bot, text=text)
    assert len(narrative) <= 3000 and narrative.endswith("です。…（以下略）")
    notes = [b for b in view["blocks"] if b["type"] == "context"]
    assert any("…（以下略）" in e["text"] for b in notes for e in b["elements"])
    short, _ = narrative_of(bot, text="短い相談です。")
    assert short == "短い相談です。"


def test_cut_and_words_without_slack():
    assert cut("あ" * 10, 10) == ("あ" * 10, False)
    text, was_cut = cut("一文目です。二文目です。三文目", 12)
    assert was_cut and text == "一文目です。…（以下略）"
    assert from_text("&amp;lt;", {}, {}) == "&lt;"
    assert from_text("<mailto:a@example.org|a@example.org>", {}, {}) == "a@example.org"
