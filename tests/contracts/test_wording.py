"""Wording rules over every text of handlers/common/locale/ja/*.toml (issue 19, point 6)."""

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
