"""Registering an outreach target: the form (on its own, or from a case), and reading it back.
Pure: data in, blocks out."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, labelled_options, option, plain
from handlers.common.texts import t
from handlers.outreach.views import PERSON_FIELDS, agency_options, cadence_text, initial_options
from models.cases.concerns import AGE_BANDS
from models.org.tables import Agency
from models.outreach.tables import CADENCES, PERSON_LIMITS, REASON_LIMIT, ReasonKind
from models.outreach.targets import TargetInput


def create_modal(
    *,
    agencies: list[Agency],
    districts: list[str],
    today_: date,
    initial_agencies: list[int],
    case_id: int | None = None,
    case_number: str | None = None,
) -> View:
    choices = agency_options(agencies)
    blocks: list = []
    if case_id is None:
        blocks += [
            context(t("outreach.create.intro")),
            InputBlock(
                block_id="name",
                label=plain(t("outreach.field.name")),
                hint=plain(t("outreach.create.name_hint")),
                element=PlainTextInputElement(
                    action_id=ids.VALUE, max_length=PERSON_LIMITS["name"]
                ),
            ),
            InputBlock(
                block_id="kana",
                label=plain(t("outreach.field.kana")),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.VALUE, max_length=PERSON_LIMITS["kana"]
                ),
            ),
        ]
        if districts:
            blocks.append(
                InputBlock(
                    block_id="district",
                    label=plain(t("outreach.field.district")),
                    optional=True,
                    element=StaticSelectElement(
                        action_id=ids.VALUE,
                        placeholder=plain(t("outreach.create.choose")),
                        options=[option(d, d) for d in districts][:100],
                    ),
                )
            )
        blocks += [
            InputBlock(
                block_id="whereabouts",
                label=plain(t("outreach.field.whereabouts")),
                optional=True,
                hint=plain(t("outreach.create.whereabouts_hint")),
                element=PlainTextInputElement(
                    action_id=ids.VALUE, max_length=PERSON_LIMITS["whereabouts"]
                ),
            ),
            InputBlock(
                block_id="contact",
                label=plain(t("outreach.field.contact")),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.VALUE, max_length=PERSON_LIMITS["contact"]
                ),
            ),
            InputBlock(
                block_id="age_band",
                label=plain(t("outreach.field.age_band")),
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.VALUE,
                    placeholder=plain(t("outreach.create.choose")),
                    options=labelled_options("age_band", AGE_BANDS),
                ),
            ),
        ]
    else:
        blocks.append(context(t("outreach.create.from_case", number=case_number)))
    blocks += [
        InputBlock(
            block_id="reason_kind",
            label=plain(t("outreach.field.reason_kind")),
            element=RadioButtonsElement(
                action_id=ids.VALUE,
                options=labelled_options("outreach_reason", list(ReasonKind)),
            ),
        ),
        InputBlock(
            block_id="reason",
            label=plain(t("outreach.field.reason")),
            optional=True,
            hint=plain(t("outreach.free_text_notice")),
            element=PlainTextInputElement(
                action_id=ids.VALUE, multiline=True, max_length=REASON_LIMIT
            ),
        ),
        InputBlock(
            block_id="agencies",
            label=plain(t("outreach.field.agencies")),
            hint=plain(t("outreach.create.agencies_hint")),
            element=StaticMultiSelectElement(
                action_id=ids.VALUE,
                placeholder=plain(t("outreach.create.choose")),
                options=choices,
                initial_options=initial_options(choices, initial_agencies),
            ),
        ),
        InputBlock(
            block_id="cadence",
            label=plain(t("outreach.field.cadence")),
            element=StaticSelectElement(
                action_id=ids.VALUE,
                options=[option(cadence_text(d), str(d)) for d in CADENCES],
                initial_option=option(cadence_text(14), "14"),
            ),
        ),
        InputBlock(
            block_id="first_contact_on",
            label=plain(t("outreach.field.first_contact_on")),
            element=DatePickerElement(action_id=ids.VALUE, initial_date=today_.isoformat()),
        ),
        context(t("outreach.privacy")),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_OUTREACH_CREATE,
        private_metadata=forms.metadata(case_id=case_id),
        title=plain(t("outreach.create.title")),
        submit=plain(t("outreach.create.submit")),
        close=plain(t("outreach.cancel")),
        blocks=blocks,
    )


def read_target(view: dict) -> TargetInput:
    cadence = forms.value(view, "cadence")
    return TargetInput(
        person={k: forms.value(view, k) for k in PERSON_FIELDS if forms.value(view, k)},
        age_band=forms.value(view, "age_band") or "unknown",
        reason_kind=forms.value(view, "reason_kind"),
        reason=forms.value(view, "reason"),
        agency_ids=forms.int_values(view, "agencies", unknown=-1),
        cadence_days=int(cadence) if isinstance(cadence, str) and cadence.isdigit() else None,
        first_contact_on=forms.date_value(view, "first_contact_on"),
    )
