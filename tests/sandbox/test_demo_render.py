"""The demo page's renderer (sandbox/demo/render.py): Block Kit and mrkdwn to safe HTML. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from sandbox.demo.record import Conversation, Entry, Kind, Person, Recording, Upload, dm_of
from sandbox.demo.render import (
    Names,
    block_html,
    blocks_html,
    home_html,
    modal_html,
    mrkdwn,
    render_page,
)

NAMES = Names(users={"U1": "試験 調整子", "U2": "試験 先生子"}, channels={"C1": "重層推進室"})
AT = datetime(2026, 11, 30, 0, 10, tzinfo=UTC)  # 9:10 in Tatsuno
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def tags_in(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.found


def md(text: str) -> str:
    return mrkdwn(text, NAMES)


# --- mrkdwn ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*R8-0001*　引き受け待ち", "<b>R8-0001</b>　引き受け待ち"),
        ("これは*太字*です", "これは<b>太字</b>です"),
        ("_斜体_ と ~取り消し~", "<i>斜体</i> と <s>取り消し</s>"),
        ("case_detail_x と 2*3*4", "case_detail_x と 2*3*4"),  # identifiers and sums stay
        ("`/tsunagi status`", "<code>/tsunagi status</code>"),
        ("`*not bold*`", "<code>*not bold*</code>"),
        ("一行目\n二行目", "一行目<br>二行目"),
    ],
)
def test_mrkdwn_formatting(text, html):
    assert md(text) == html


def test_preformatted_blocks_keep_their_text():
    assert md("前\n```\n*x* <b>\n```\n後") == "前<br><pre>*x* &lt;b&gt;</pre><br>後"


def test_quotes_become_blockquotes():
    assert md("&gt; 引用です\n本文") == "<blockquote>引用です</blockquote>本文"


def test_mentions_channels_and_specials():
    html = md("<@U1> さん、<#C1> に <@U9|別名> <!here>")
    assert '<span class="mention">@試験 調整子</span>' in html
    assert '<span class="mention">#重層推進室</span>' in html
    assert "@別名" in html
    assert '<span class="mention special">@here</span>' in html


def test_links_only_for_safe_schemes():
    html = md("<https://example.jp/?a=1&amp;b=2|町のページ> <javascript:alert(1)|押して>")
    assert '<a class="link" href="https://example.jp/?a=1&amp;b=2"' in html
    assert ">町のページ</a>" in html
    assert "javascript:" not in html
    assert '<span class="link">押して</span>' in html


def test_entities_are_decoded_then_escaped_again():
    # what the bot writes for the text `<!channel> & 詳細` typed into a form
    html = md("&lt;!channel&gt; 試験 &amp; 詳細")
    assert html == "&lt;!channel&gt; 試験 &amp; 詳細"
    assert "special" not in html  # no ping rendered


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "*<img src=x onerror=alert(1)>*",
        '<https://x.jp/" onmouseover="alert(1)|x>',
        "```</pre><script>alert(1)</script>```",
        "`<script>`",
        "\ue0000\ue001<script>",
    ],
)
def test_nothing_in_a_message_becomes_markup(evil):
    tags = tags_in(md(evil))
    assert {name for name, _ in tags} <= {"a", "span", "b", "i", "s", "code", "pre", "br"}
    for name, attrs in tags:
        assert set(attrs) <= {"class", "href", "rel", "target", "title"}, (name, attrs)
        assert not attrs.get("href", "https:").lower().startswith("javascript")


# --- blocks and elements --------------------------------------------------------------------------


def test_section_with_fields_and_a_button_accessory():
    html = block_html(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "新しいつなぎメモ *R8-0001*"},
            "fields": [
                {"type": "mrkdwn", "text": "*緊急度*\n通常"},
                {"type": "plain_text", "text": "*星* はそのまま"},
            ],
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "開く"},
                "action_id": "x",
            },
        },
        NAMES,
    )
    assert "<b>R8-0001</b>" in html
    assert html.count('class="field"') == 2
    assert "<b>緊急度</b><br>通常" in html
    assert "*星* はそのまま" in html  # plain_text is not formatted
    assert '<span class="btn">開く</span>' in html


def test_header_context_divider_and_button_styles():
    html = blocks_html(
        [
            {"type": "header", "text": {"type": "plain_text", "text": "見出し <b>"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "小さな _注記_"}]},
            {"type": "divider"},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "引き受ける"},
                        "style": "primary",
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "終結する"},
                        "style": "danger",
                    },
                    {
                        "type": "static_select",
                        "placeholder": {"type": "plain_text", "text": "ケースの操作を選ぶ"},
                        "options": [],
                    },
                    {"type": "overflow", "options": []},
                ],
            },
        ],
        NAMES,
    )
    assert '<div class="b-header">見出し &lt;b&gt;</div>' in html
    assert "小さな <i>注記</i>" in html
    assert '<hr class="b-divider">' in html
    assert '<span class="btn btn-primary">引き受ける</span>' in html
    assert '<span class="btn btn-danger">終結する</span>' in html
    assert "ケースの操作を選ぶ" in html and "▾" in html
    assert "⋮" in html


def _option(text: str, value: str) -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _input(block_id: str, element: dict, **kw) -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": f"ラベル{block_id}"},
        "element": {"action_id": "value", **element},
        **kw,
    }


FORM = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "つなぎメモ"},
    "submit": {"type": "plain_text", "text": "送信"},
    "close": {"type": "plain_text", "text": "キャンセル"},
    "blocks": [
        _input(
            "text",
            {
                "type": "plain_text_input",
                "multiline": True,
                "placeholder": {"type": "plain_text", "text": "ここに書く"},
            },
        ),
        _input(
            "one",
            {
                "type": "static_select",
                "options": [_option("高齢", "elderly")],
                "initial_option": _option("高齢", "elderly"),
            },
            optional=True,
        ),
        _input(
            "many",
            {
                "type": "multi_static_select",
                "option_groups": [
                    {
                        "label": {"type": "plain_text", "text": "群"},
                        "options": [_option("8050", "a"), _option("ひきこもり", "b")],
                    }
                ],
            },
        ),
        _input(
            "radio",
            {"type": "radio_buttons", "options": [_option("通常", "n"), _option("緊急", "u")]},
        ),
        _input("check", {"type": "checkboxes", "options": [_option("確認した", "ok")]}),
        _input("day", {"type": "datepicker", "initial_date": "2026-12-03"}),
        _input("at", {"type": "timepicker", "initial_time": "10:00"}),
        _input("who", {"type": "multi_users_select", "initial_users": ["U1"]}),
        _input("cases", {"type": "multi_external_select"}),
    ],
}


def test_a_form_as_opened_shows_placeholders_and_initial_values():
    html = modal_html(FORM, NAMES)
    assert '<span class="modal-title">つなぎメモ</span>' in html
    assert '<span class="btn btn-primary">送信</span>' in html
    assert "ここに書く" in html and 'class="box textarea"' in html
    assert "高齢" in html and "（任意）" in html
    assert "📅" in html and "2026-12-03" in html
    assert "🕘" in html and "10:00" in html
    assert "@試験 調整子" in html
    assert html.count('class="radio"') == 2 and 'class="radio on"' not in html


def test_a_form_as_sent_shows_the_answers_and_the_bots_errors():
    values = {
        "text": "試験の\n内容 <b>",
        "many": ["a", "b"],
        "radio": "u",
        "check": ["ok"],
        "day": "2026-12-04",
        "cases": [_option("R8-0001　分野の記入なし", "1")],
    }
    html = modal_html(FORM, NAMES, values=values, errors={"many": "選んでください <必須>"})
    assert "試験の<br>内容 &lt;b&gt;" in html
    assert '<span class="chip">8050</span><span class="chip">ひきこもり</span>' in html
    assert html.count('class="radio on"') == 1
    assert 'class="check on"' in html
    assert "2026-12-04" in html and "2026-12-03" not in html
    assert '<span class="chip">R8-0001　分野の記入なし</span>' in html
    assert 'class="b-input has-error"' in html
    assert "⚠ 選んでください &lt;必須&gt;" in html


def test_images_are_drawn_only_from_data_uris():
    inline = block_html(
        {"type": "image", "image_url": "data:image/png;base64,AAAA", "alt_text": "グラフ"}, NAMES
    )
    assert '<img class="img" src="data:image/png;base64,AAAA" alt="グラフ">' in inline
    remote = block_html(
        {"type": "image", "image_url": "https://example.jp/x.png", "alt_text": "外の画像"}, NAMES
    )
    assert "<img" not in remote and "外の画像" in remote


def test_rich_text_and_unknown_blocks():
    html = blocks_html(
        [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "太字", "style": {"bold": True}},
                            {"type": "user", "user_id": "U2"},
                            {"type": "link", "url": "https://example.jp", "text": "リンク"},
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "bullet",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": "項目"}],
                            }
                        ],
                    },
                ],
            },
            {"type": "video"},
        ],
        NAMES,
    )
    assert "<b>太字</b>" in html and "@試験 先生子" in html and "<li>項目</li>" in html
    assert "表示できないブロック：video" in html


def test_home_tab_without_a_view_says_so():
    assert "ホームタブはまだ表示されていません" in home_html(None, NAMES)


# --- the page -------------------------------------------------------------------------------------


def _recording() -> Recording:
    people = [
        Person(
            "U1", "試験 調整子", "suishin", "重層推進室", ("重層推進室（多機関協働）",), ("C1",)
        ),
        Person("U2", "試験 先生子", "gakko", "町内小中学校", ("関係機関",), ()),
    ]
    card = {"type": "section", "text": {"type": "mrkdwn", "text": "新しいつなぎメモ *R8-0001*"}}
    entries = [
        Entry(AT, Kind.action, user="U2", text="/tsunagi と入力しました。"),
        Entry(AT, Kind.message, conversation="C1", text="カード", blocks=[card], ts="1.1"),
        Entry(AT, Kind.message, conversation=dm_of("U2"), text="受付番号は *R8-0001* です。"),
        Entry(
            AT,
            Kind.ephemeral,
            conversation="C1",
            user="U1",
            text="&lt;script&gt;x&lt;/script&gt;受付",
        ),
        Entry(AT, Kind.modal, user="U1", view=FORM, view_id="V1"),
        Entry(AT, Kind.submitted, user="U1", view=FORM, view_id="V1", values={"radio": "u"}),
        Entry(AT, Kind.home, user="U1", view={"type": "home", "blocks": [card]}),
        Entry(
            AT,
            Kind.file,
            conversation="C1",
            upload=Upload("chart.png", "推移", "折れ線グラフです", PNG),
        ),
    ]
    return Recording(
        title="デモ <テスト>",
        period="2026年11月30日（月）",
        people=people,
        conversations={"C1": Conversation("C1", "重層推進室", private=True)},
        entries=entries,
    )


def test_each_person_sees_their_channels_dms_and_own_screens_only():
    html = render_page(_recording())
    coord = html[html.index('id="person-U1"') : html.index('id="person-U2"')]
    teacher = html[html.index('id="person-U2"') :]
    assert "カード" not in teacher and "R8-0001" in coord  # C1 is the coordinator's
    assert "受付番号は" in teacher and "受付番号は" not in coord  # the teacher's DM
    assert "あなただけに表示されています" in coord and "/tsunagi と入力しました" in teacher
    assert 'class="modal"' in coord and 'class="modal"' not in teacher.split("home-pane")[0]
    assert "details" in coord  # the empty form folds: its filled-in version follows
    assert coord.count("data:image/png;base64,") == 1
    assert "ホームタブ（最新）" in coord and "この週にホームタブを開いていません" in teacher
    assert "11月30日（月）" in coord and "9:10" in coord


def test_the_page_is_self_contained_and_runs_nothing():
    html = render_page(_recording())
    assert html.startswith("<!doctype html>")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<title>デモ &lt;テスト&gt;</title>" in html
    for _, attrs in tags_in(html):
        for name in ("src", "href"):
            assert attrs.get(name, "#").startswith(("#", "data:image/")), attrs
        assert not any(a.startswith("on") for a in attrs)
    assert 'href="#person-U1"' in html and 'href="#person-U2"' in html
    assert "すべて架空です" in html


def test_a_form_as_sent_leaves_out_empty_optional_fields_but_not_their_errors():
    form = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "記録"},
        "blocks": [
            _input("a", {"type": "plain_text_input"}, optional=True),
            _input("b", {"type": "plain_text_input"}, optional=True),
            _input("c", {"type": "plain_text_input"}),
        ],
    }
    html = modal_html(form, NAMES, values={"c": "書いた"}, errors={"b": "短くしてください"})
    assert "ラベルa" not in html and "ラベルb" in html and "ラベルc" in html
    assert "空欄のままの任意の項目 1 件" in html
    assert "ラベルa" in modal_html(form, NAMES)  # as opened: every field
