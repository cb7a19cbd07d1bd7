"""Wording rules over every text of handlers/common/locale/ja/*.toml (issue 19, point 6)."""

import re

from handlers.common.texts import _catalogue


def _all_texts(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _all_texts(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_no_input_says_optional_slack_marks_it_already():
    """Slack writes 「（任意）」 beside an optional input's label itself: the label must not."""
    found = [code for code, text in _all_texts(_catalogue()) if "（任意）" in str(text)]
    assert found == []


# --- No ASCII space beside Japanese (issue 19, point 6) ---------------------------------------
# Japanese characters: kana, kanji, the ideographic space, full-width punctuation (「」（）、。〜).
# The ellipsis … is not one: it sits between ASCII examples (`/tsunagi` … つなぎメモを書く).
JA = "[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]"
# Placeholders that render Japanese or a name: names, agencies, dates such as 12/21（月）, labels,
# periods, figures such as 14件. Others render ASCII (R8-0001, counts, ids, paths, Slack ids) and
# may keep a space.
JAPANESE_PLACEHOLDERS = [
    "when",
    "label",
    "agency",
    "due",
    "state",
    "day",
    "name",
    "who",
    "subject",
    "period",
    "status",
    "agencies",
    "previous",
    "current",
    "what",
    "urgency",
    "town",
    "place",
    "fytd",
    "cadence",
    "since",
    "review",
    "option",
    "names",
    "topic",
    "title",
    "team",
    "outcome",
    "deadline",
    "week",
    "until",
    "unit",
    "today",
    "span",
    "sources",
    "reason",
    "reasons",
    "method",
    "domains",
    "age_band",
    "coordinator",
    "received",
    "by",
    "problem",
    "problems",
    "message",
]
_PH = "|".join(JAPANESE_PLACEHOLDERS)
SPACED = [
    re.compile(f"{JA} +{JA}"),
    re.compile(f"{JA} +\\{{(?:{_PH})\\}}"),
    re.compile(f"\\{{(?:{_PH})\\}} +{JA}"),
    re.compile(f"<@\\{{\\w+\\}}> +{JA}"),  # a mention is a token: <@U…>さん, no space needed
]
# Intended exceptions: column headers of CLI tables, where spaces align the columns.
# Spaces beside mrkdwn (*{number}* を, `…` の) are kept: Slack renders *bold* only when the
# asterisks touch a space or punctuation, not a Japanese character.
SPACE_EXCEPTIONS = {"outreach.cli.header", "reminder.cli.header"}


def spaced(text: str) -> list[str]:
    return [m.group(0) for pattern in SPACED for m in pattern.finditer(text)]


def test_no_ascii_space_between_japanese_or_around_a_name():
    found = [
        (code, hit)
        for code, text in _all_texts(_catalogue())
        if code not in SPACE_EXCEPTIONS and isinstance(text, str)
        for hit in spaced(text)
    ]
    assert found == []


def test_the_lint_sees_the_faults_of_the_issue():
    assert spaced("12/21（月） です") == ["） で"]
    assert spaced("を {agency} が受付しました") == ["を {agency}", "{agency} が"]
    assert spaced("{who} さん") == ["{who} さ"]
    assert spaced("<@{user}> さんが") == ["<@{user}> さ"]
    assert spaced("つなぎメモ *{number}* を") == []  # mrkdwn bold needs its spaces


def test_one_word_for_each_moment():
    """受付 is the memo's arrival and its number; a window taking the case is 引き受け."""
    taking = re.compile(r"受付(?!番号|日時)")
    found = [(code, text) for code, text in _all_texts(_catalogue()) if taking.search(str(text))]
    assert found == []
