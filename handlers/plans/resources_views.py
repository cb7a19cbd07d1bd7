"""The coordinator's list of participation resources (参加支援: 居場所, 就労体験 …) with how
often tasks use each, and the form that adds one."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, SectionBlock
from slack_sdk.models.views import View

from handlers.common import ids
from handlers.common.blocks import context, option, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.meetings.views import button, md, modal
from handlers.plans.views import MODAL_BLOCKS, select_field, text_field
from models.plans.tables import Resource, ResourceKind

RESOURCES_SHOWN = 40


def _line(r: Resource, uses: int) -> SectionBlock:
    state = "" if r.active else "　" + t("resource.inactive")
    text = t("resource.line", name=escape(r.name), kind=label("resource_kind", r.kind), uses=uses)
    if r.description:
        text += "\n" + escape(r.description)
    toggle = "resource.button.deactivate" if r.active else "resource.button.activate"
    return SectionBlock(
        text=md(text + state),
        accessory=button(toggle, ids.ACTION_RESOURCE_TOGGLE, str(r.id)),
    )


def resources_modal(resources: list[Resource], use: dict[int, int]) -> View:
    add = button("resource.button.add", ids.ACTION_RESOURCE_ADD, "add", style="primary")
    blocks: list = [
        section(t("resource.intro")),
        ActionsBlock(block_id=ids.BLOCK_RESOURCES, elements=[add]),
    ]
    if not resources:
        blocks.append(context(t("resource.none")))
    blocks += [_line(r, use.get(r.id, 0)) for r in resources[:RESOURCES_SHOWN]]
    if len(resources) > RESOURCES_SHOWN:
        blocks.append(context(t("resource.more", n=len(resources) - RESOURCES_SHOWN)))
    return modal(ids.VIEW_RESOURCES, "resource.title", blocks[:MODAL_BLOCKS], close="detail.close")


def resource_add_modal() -> View:
    blocks = [
        text_field("name", limit=200, code="resource.field.name"),
        select_field(
            "kind",
            [option(label("resource_kind", k), k) for k in ResourceKind],
            code="resource.field.kind",
        ),
        text_field(
            "description",
            multiline=True,
            limit=300,
            optional=True,
            code="resource.field.description",
            hint=t("resource.hint.description"),
        ),
    ]
    return modal(ids.VIEW_RESOURCE_ADD, "resource.title_add", blocks, submit="resource.submit")
