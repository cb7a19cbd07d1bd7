"""Small builders shared by every view: texts, options, the modal frame and the plain notice
modal."""

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


def modal_view(
    callback_id: str,
    *,
    title: str,
    close: str,
    blocks: list,
    submit: str | None = None,
    metadata: str | None = None,
) -> View:
    """Every modal's frame: its texts as the person reads them (title at most 24 characters,
    Slack's limit), its blocks, and `metadata` (forms.metadata) where a submission needs it."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=metadata,
        title=plain(title),
        submit=plain(submit) if submit else None,
        close=plain(close),
        blocks=blocks,
    )


def notice_modal(title: str, body: str) -> View:
    """A modal that only says something (refusals, confirmations)."""
    return modal_view(
        ids.VIEW_NOTICE, title=title[:24], close=t("detail.close"), blocks=[section(body)]
    )
