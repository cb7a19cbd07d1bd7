"""The つなぎメモ modal, reading its submitted state back into a MemoInput, and the receipt."""

from __future__ import annotations

import json
from functools import lru_cache

from slack_sdk.models.blocks import (
    HeaderBlock,
    InputBlock,
    OptionGroup,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, labelled_options, modal_view, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.notices.views import Rendered
from models.cases.concerns import AGE_BANDS, CONCERN_GROUPS, CONCERNS, ConsentToShare, Urgency
from models.cases.memo import LIMITS, MemoInput
from models.cases.records import CaseSummary
from models.cases.routing import UNKNOWN_DESTINATION
from models.org.tables import Agency


def _text_input(block: str, *, optional: bool, multiline: bool = False, **kw) -> InputBlock:
    element = PlainTextInputElement(
        action_id=ids.VALUE,
        multiline=multiline,
        max_length=LIMITS[block],
        placeholder=plain(kw.pop("placeholder")) if "placeholder" in kw else None,
    )
    return InputBlock(
        block_id=block,
        label=plain(t(f"memo.{block}")),
        element=element,
        optional=optional,
        hint=plain(kw.pop("hint")) if "hint" in kw else None,
    )


def memo_modal(
    *, windows: list[Agency], districts: list[str], prefill: str | None = None, cut: bool = False
) -> dict:
    """The memo form as Block Kit (checked by slack_sdk's models when built).

    Built once per org (the windows and districts): every /tsunagi and shortcut opens it, and
    building it through the models cost more than the rest of the request. A form prefilled
    from a message is a fresh copy of it with the text put in: the message's text is never kept
    in a cache."""
    destinations = tuple((a.name, a.key) for a in windows)
    form = json.loads(_memo_modal_json(destinations, tuple(districts)))
    if prefill:
        blocks = form["blocks"]
        at = next(i for i, b in enumerate(blocks) if b.get("block_id") == "narrative")
        blocks[at]["element"]["initial_value"] = prefill[: LIMITS["narrative"]]
        if cut:
            note = context(t("memo.prefill.cut_note", limit=LIMITS["narrative"])).to_dict()
            blocks.insert(at + 1, note)
    return form


@lru_cache(maxsize=16)
def _memo_modal_json(windows: tuple[tuple[str, str], ...], districts: tuple[str, ...]) -> str:
    return json.dumps(_memo_modal(windows, districts).to_dict(), ensure_ascii=False)


def concern_groups() -> list[OptionGroup]:
    """The concerns (困りごと), grouped by domain: the memo's select and the assessment's."""
    return [
        OptionGroup(
            label=plain(label("domain", group)),
            options=[option(label("concern", c.key), c.key) for c in CONCERNS if c.group == group],
        )
        for group in CONCERN_GROUPS
    ]


def _memo_modal(windows: tuple[tuple[str, str], ...], districts: tuple[str, ...]) -> View:
    destinations = [option(name, key) for name, key in windows]
    destinations.append(option(t("memo.destination_unknown"), UNKNOWN_DESTINATION))
    normal = labelled_options("urgency", [Urgency.normal])[0]
    blocks = [
        section(t("memo.intro")),
        HeaderBlock(text=plain(t("memo.section_person"))),
        _text_input("person_name", optional=True, hint=t("memo.person_name_hint")),
        _text_input("person_kana", optional=True),
        InputBlock(
            block_id="age_band",
            label=plain(t("memo.age_band")),
            element=StaticSelectElement(
                action_id=ids.VALUE, options=labelled_options("age_band", AGE_BANDS)
            ),
        ),
    ]
    if districts:
        blocks.append(
            InputBlock(
                block_id="district",
                label=plain(t("memo.district")),
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.VALUE, options=[option(d, d) for d in districts][:100]
                ),
            )
        )
    blocks += [
        _text_input("contact", optional=True, hint=t("memo.contact_hint")),
        _text_input(
            "household",
            optional=True,
            multiline=True,
            placeholder=t("memo.household_placeholder"),
        ),
        HeaderBlock(text=plain(t("memo.section_concern"))),
        InputBlock(
            block_id="concerns",
            label=plain(t("memo.concerns")),
            element=StaticMultiSelectElement(
                action_id=ids.VALUE,
                placeholder=plain(t("memo.concerns_placeholder")),
                option_groups=concern_groups(),
            ),
        ),
        _text_input(
            "narrative",
            optional=False,
            multiline=True,
            placeholder=t("memo.narrative_placeholder"),
        ),
        InputBlock(
            block_id="urgency",
            label=plain(t("memo.urgency")),
            element=RadioButtonsElement(
                action_id=ids.VALUE,
                options=labelled_options("urgency", list(Urgency)),
                initial_option=normal,
            ),
        ),
        InputBlock(
            block_id="consent_to_share",
            label=plain(t("memo.consent")),
            element=RadioButtonsElement(
                action_id=ids.VALUE, options=labelled_options("consent", list(ConsentToShare))
            ),
        ),
        HeaderBlock(text=plain(t("memo.section_routing"))),
        InputBlock(
            block_id="destination",
            label=plain(t("memo.destination")),
            optional=True,
            element=StaticSelectElement(
                action_id=ids.VALUE,
                placeholder=plain(t("memo.destination_placeholder")),
                options=destinations,
            ),
        ),
    ]
    return modal_view(
        ids.VIEW_MEMO,
        title=t("memo.title"),
        submit=t("memo.submit"),
        close=t("memo.close"),
        blocks=blocks,
    )


def read_memo(view: dict) -> MemoInput:
    """The submitted modal as a MemoInput. Values are checked by models.intake.validate."""
    text = {b: forms.value(view, b) for b in ids.MEMO_BLOCKS}
    return MemoInput(
        narrative=text["narrative"] or "",
        concerns=list(text["concerns"] or []),
        urgency=text["urgency"] or "",
        consent_to_share=text["consent_to_share"] or "",
        age_band=text["age_band"] or "",
        district=text["district"],
        destination=text["destination"],
        person_name=text["person_name"],
        person_kana=text["person_kana"],
        contact=text["contact"],
        household=text["household"],
    )


def sent_modal(*, number: str, agency_name: str) -> View:
    return modal_view(
        ids.VIEW_NOTICE,
        title=t("memo.sent_title"),
        close=t("memo.sent_close"),
        blocks=[
            section(t("memo.sent_body", number=number, agency=escape(agency_name))),
            context(t("detail.notice")),
        ],
    )


def receipt(s: CaseSummary) -> Rendered:
    """To the referrer, once the memo is stored: its receipt number and where it went."""
    body = t("receipt.body", number=s.number, agency=escape(s.routed_agency))
    return Rendered(text=t("receipt.text", number=s.number), blocks=[section(body).to_dict()])
