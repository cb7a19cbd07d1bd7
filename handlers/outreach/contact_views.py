"""Logging a contact: how, the outcome, a short note and the next date — or, when the outcome is
同意が得られた, how the consent was given and whom it covers. Pure: data in, blocks out."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    InputBlock,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, labelled_options, modal_view, option, plain, section
from handlers.common.texts import label, t
from handlers.outreach.views import (
    agency_select,
    cadence_text,
    date_input,
    free_text,
    line_text,
    radio,
)
from models.org.tables import Agency
from models.outreach.contacts import ContactInput
from models.outreach.listing import TargetLine
from models.outreach.tables import NOTE_LIMIT, ContactOutcome, Method


def contact_modal(
    x: TargetLine,
    *,
    proposed: date,
    consented: bool,
    agencies: list[Agency],
    assigned: list[int],
) -> View:
    """How, outcome, a short note, and the next date (proposed, editable) — or, when the outcome
    is 同意が得られた, how the consent was given and whom it covers (the form changes)."""
    blocks: list = [
        section(line_text(x)),
        radio("method", labelled_options("outreach_method", list(Method))),
        InputBlock(
            block_id="outcome",
            label=plain(t("outreach.field.outcome")),
            dispatch_action=True,
            element=RadioButtonsElement(
                action_id=ids.ACTION_OUTREACH_OUTCOME,
                options=labelled_options("outreach_outcome", list(ContactOutcome)),
                initial_option=option(label("outreach_outcome", "consented"), "consented")
                if consented
                else None,
            ),
        ),
        free_text("note", t("outreach.field.note"), limit=NOTE_LIMIT, optional=True),
    ]
    if consented:
        blocks += [
            radio("consent_method", labelled_options("consent_method", ["oral", "written"])),
            agency_select(
                "consent_agencies",
                agencies,
                chosen=assigned,
                hint=t("outreach.contact.consent_agencies_hint"),
            ),
            context(t("outreach.contact.consent_what_happens")),
        ]
    else:
        hint = t("outreach.contact.next_hint", cadence=cadence_text(x.cadence_days))
        blocks += [
            date_input("next_contact_on", proposed, hint=hint),
            context(t("outreach.contact.consent_hint")),
        ]
    return modal_view(
        ids.VIEW_OUTREACH_CONTACT,
        title=t("outreach.contact.title"),
        submit=t("outreach.contact.submit"),
        close=t("outreach.cancel"),
        metadata=forms.metadata(target_id=x.target_id),
        blocks=blocks,
    )


def read_contact(view: dict) -> ContactInput:
    return ContactInput(
        method=forms.value(view, "method"),
        outcome=forms.value(view, "outcome"),
        note=forms.value(view, "note"),
        next_contact_on=forms.date_value(view, "next_contact_on"),
        consent_method=forms.value(view, "consent_method"),
        consent_agency_ids=forms.int_values(view, "consent_agencies", unknown=-1),
    )
