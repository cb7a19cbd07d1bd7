"""Registering an outreach target: the form (on its own, or from a case), and reading it back.
Pure: data in, blocks out."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, labelled_options, modal_view, option, plain
from handlers.common.texts import t
from handlers.outreach.views import (
    PERSON_FIELDS,
    agency_select,
    cadence_text,
    date_input,
    free_text,
    radio,
)
from models.cases.concerns import AGE_BANDS
from models.org.tables import Agency
from models.outreach.tables import CADENCES, PERSON_LIMITS, REASON_LIMIT, ReasonKind
from models.outreach.targets import TargetInput


def _person_text(field: str, *, optional: bool = True, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=plain(t(f"outreach.field.{field}")),
        optional=optional or None,
        hint=plain(hint) if hint else None,
        element=PlainTextInputElement(action_id=ids.VALUE, max_length=PERSON_LIMITS[field]),
    )


def _choice(field: str, options: list) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=plain(t(f"outreach.field.{field}")),
        optional=True,
        element=StaticSelectElement(
            action_id=ids.VALUE, placeholder=plain(t("outreach.create.choose")), options=options
        ),
    )


def _person(districts: list[str]) -> list:
    """Who: asked only of a target registered on its own (from a case, the case has it)."""
    blocks: list = [
        context(t("outreach.create.intro")),
        _person_text("name", optional=False, hint=t("outreach.create.name_hint")),
        _person_text("kana"),
    ]
    if districts:
        blocks.append(_choice("district", [option(d, d) for d in districts][:100]))
    return [
        *blocks,
        _person_text("whereabouts", hint=t("outreach.create.whereabouts_hint")),
        _person_text("contact"),
        _choice("age_band", labelled_options("age_band", AGE_BANDS)),
    ]


def create_modal(
    *,
    agencies: list[Agency],
    districts: list[str],
    first_day: date,
    initial_agencies: list[int],
    case_id: int | None = None,
    case_number: str | None = None,
) -> View:
    if case_id is None:
        blocks = _person(districts)
    else:
        blocks = [context(t("outreach.create.from_case", number=case_number))]
    blocks += [
        radio("reason_kind", labelled_options("outreach_reason", list(ReasonKind))),
        free_text("reason", t("outreach.field.reason"), limit=REASON_LIMIT, optional=True),
        agency_select(
            "agencies", agencies, chosen=initial_agencies, hint=t("outreach.create.agencies_hint")
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
        date_input("first_contact_on", first_day),  # the next business day
        context(t("outreach.privacy")),
    ]
    return modal_view(
        ids.VIEW_OUTREACH_CREATE,
        title=t("outreach.create.title"),
        submit=t("outreach.create.submit"),
        close=t("outreach.cancel"),
        metadata=forms.metadata(case_id=case_id),
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
