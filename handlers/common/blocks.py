"""Small builders shared by every view: texts, options, and the plain notice modal."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from handlers.common import ids
from handlers.common.texts import label, t


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def option(text: str, value: str) -> Option:
    # Slack's limit for option text is 75 characters.
    return Option(text=plain(text[:75]), value=value)


def labelled_options(group: str, keys: tuple[str, ...] | list[str]) -> list[Option]:
    return [option(label(group, key), key) for key in keys]


def section(text: str) -> SectionBlock:
    """A section of bot-written mrkdwn. User text must go through mrkdwn.escape first."""
    return SectionBlock(text=MarkdownTextObject(text=text))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def notice_modal(title: str, body: str) -> View:
    """A modal that only says something (refusals, confirmations)."""
    return View(
        type="modal",
        callback_id=ids.VIEW_NOTICE,
        title=plain(title[:24]),
        close=plain(t("detail.close")),
        blocks=[section(body)],
    )
