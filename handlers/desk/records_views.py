"""The 本人同意 and 世帯全体のアセスメント modals. Pure builders: records in, views out.

Both show personal information: they are opened only for entitled members, every opening is
audited by the listener, and every text a person wrote is escaped (or shown as plain_text).
"""

from __future__ import annotations

from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    InputBlock,
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
from handlers.desk.case_views import SECTION_TEXT, consent_line_text, day, long_text, when
from handlers.desk.views import case_line
from handlers.intake.views import concern_groups
from models.cases.assessment import (
    MAX_MEMBERS,
    RELATIONSHIP_LIMIT,
    TEXT_LIMIT,
    AssessmentInput,
    HouseholdMember,
    members_of,
)
from models.cases.casework import ConsentLine
from models.cases.concerns import AGE_BANDS
from models.cases.consent import NOTE_LIMIT, ConsentInput
from models.cases.records import CaseSummary
from models.cases.tables import Assessment, ConsentMethod, ConsentStatus
from models.org.tables import Agency

HISTORY_SHOWN = 5


# --- 本人同意 ------------------------------------------------------------------------------------


def consent_history_text(lines: list[ConsentLine]) -> str:
    rows = []
    for c in lines[:HISTORY_SHOWN]:
        parts = [day(c.obtained_on) or when(c.recorded_at), label("consent_status", c.status)]
        if c.method:
            parts.append(label("consent_method", c.method))
        row = "・".join(parts)
        if c.recorded_by:
            row += "　" + t("detail.recorded_by", user=c.recorded_by, when=when(c.recorded_at))
        if c.note:
            row += "\n　" + t("detail.reason", reason=escape(c.note[:200]))
        rows.append(row)
    return "\n".join(rows)[:SECTION_TEXT]


def consent_modal(
    s: CaseSummary, *, history: list[ConsentLine], agencies: list[Agency], today: date
) -> View:
    current = history[0] if history else None
    covered = set()
    if current is not None and current.status == ConsentStatus.given:
        covered = set(current.agencies)
    agency_options = [option(a.name, str(a.id)) for a in agencies][:100]
    initial_agencies = [
        o for o, a in zip(agency_options, agencies, strict=False) if a.name in covered
    ]
    blocks: list = [
        section(case_line(s)),
        context(t("consent.intro")),
        section(f"*{t('detail.current_consent')}*\n{consent_line_text(current)}"),
    ]
    if len(history) > 1:
        blocks.append(section(f"*{t('consent.history')}*\n{consent_history_text(history[1:])}"))
    blocks += [
        DividerBlock(),
        InputBlock(
            block_id="status",
            label=plain(t("consent.status")),
            element=RadioButtonsElement(
                action_id=ids.VALUE,
                options=labelled_options("consent_status", list(ConsentStatus)),
            ),
        ),
        InputBlock(
            block_id="method",
            label=plain(t("consent.method")),
            optional=True,
            hint=plain(t("consent.method_hint")),
            element=RadioButtonsElement(
                action_id=ids.VALUE,
                options=labelled_options("consent_method", list(ConsentMethod)),
            ),
        ),
        InputBlock(
            block_id="obtained_on",
            label=plain(t("consent.obtained_on")),
            optional=True,
            element=DatePickerElement(action_id=ids.VALUE, initial_date=today.isoformat()),
        ),
        InputBlock(
            block_id="agencies",
            label=plain(t("consent.agencies")),
            optional=True,
            hint=plain(t("consent.agencies_hint")),
            element=StaticMultiSelectElement(
                action_id=ids.VALUE,
                placeholder=plain(t("consent.agencies_placeholder")),
                options=agency_options,
                initial_options=initial_agencies or None,
            ),
        ),
        InputBlock(
            block_id="note",
            label=plain(t("consent.note")),
            optional=True,
            hint=plain(t("step.free_text_notice")),
            element=PlainTextInputElement(
                action_id=ids.VALUE, multiline=True, max_length=NOTE_LIMIT
            ),
        ),
    ]
    return modal_view(
        ids.VIEW_CONSENT,
        title=t("consent.title"),
        submit=t("consent.submit"),
        close=t("step.cancel"),
        metadata=forms.metadata(case_id=s.case_id),
        blocks=blocks,
    )


def read_consent(view: dict) -> ConsentInput:
    return ConsentInput(
        status=forms.value(view, "status") or "",
        method=forms.value(view, "method"),
        obtained_on=forms.date_value(view, "obtained_on"),
        agency_ids=forms.int_values(view, "agencies", unknown=-1),  # -1: validation says so
        note=forms.value(view, "note"),
    )


# --- 世帯全体のアセスメント ---------------------------------------------------------------------


def _text(block: str, *, optional: bool, initial: str | None) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=plain(t(f"assessment.{block}")),
        optional=optional,
        element=PlainTextInputElement(
            action_id=ids.VALUE,
            multiline=True,
            max_length=TEXT_LIMIT,
            initial_value=(initial or None) and initial[:TEXT_LIMIT],
            placeholder=plain(t(f"assessment.{block}_placeholder")),
        ),
    )


def assessment_form(s: CaseSummary, *, base: Assessment | None) -> View:
    """Edit = a new version; the form starts from the latest one (`base`)."""
    rows = members_of(base) if base else [HouseholdMember(relationship=t("assessment.self"))]
    rows += [HouseholdMember()] * (MAX_MEMBERS - len(rows))
    groups = concern_groups()
    by_key = {o.value: o for g in groups for o in g.options}
    ages = labelled_options("age_band", AGE_BANDS)
    blocks: list = [
        section(case_line(s)),
        context(t("assessment.form_intro", rows=MAX_MEMBERS)),
    ]
    for i, m in enumerate(rows[:MAX_MEMBERS], start=1):
        blocks += [
            InputBlock(
                block_id=f"relationship_{i}",
                label=plain(t("assessment.relationship", n=i)),
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.VALUE,
                    max_length=RELATIONSHIP_LIMIT,
                    initial_value=(m.relationship or None) and m.relationship[:RELATIONSHIP_LIMIT],
                    placeholder=plain(t("assessment.relationship_placeholder")),
                ),
            ),
            InputBlock(
                block_id=f"age_band_{i}",
                label=plain(t("assessment.age_band", n=i)),
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.VALUE,
                    placeholder=plain(t("step.choose")),
                    options=ages,
                    initial_option=next((o for o in ages if o.value == m.age_band), None),
                ),
            ),
            InputBlock(
                block_id=f"concerns_{i}",
                label=plain(t("assessment.concerns", n=i)),
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=ids.VALUE,
                    placeholder=plain(t("memo.concerns_placeholder")),
                    option_groups=groups,
                    initial_options=[by_key[c] for c in m.concerns if c in by_key] or None,
                ),
            ),
        ]
    blocks += [
        DividerBlock(),
        _text("main_issue", optional=False, initial=base.main_issue if base else None),
        _text("wishes", optional=True, initial=base.wishes if base else None),
        _text("strengths", optional=True, initial=base.strengths if base else None),
        _text("risks", optional=True, initial=base.risks if base else None),
    ]
    return modal_view(
        ids.VIEW_ASSESSMENT,
        title=t("assessment.title"),
        submit=t("assessment.submit"),
        close=t("step.cancel"),
        metadata=forms.metadata(case_id=s.case_id, based_on=base.version if base else None),
        blocks=blocks,
    )


def read_assessment(view: dict) -> AssessmentInput:
    members = [
        HouseholdMember(
            relationship=forms.value(view, f"relationship_{i}") or "",
            age_band=forms.value(view, f"age_band_{i}"),
            concerns=list(forms.value(view, f"concerns_{i}") or []),
        )
        for i in range(1, MAX_MEMBERS + 1)
    ]
    return AssessmentInput(
        members=members,
        main_issue=forms.value(view, "main_issue") or "",
        wishes=forms.value(view, "wishes"),
        strengths=forms.value(view, "strengths"),
        risks=forms.value(view, "risks"),
    )


def _member_line(i: int, m: HouseholdMember) -> str:
    parts = [escape(m.relationship)]
    if m.age_band:
        parts.append(label("age_band", m.age_band))
    if m.concerns:
        parts.append("、".join(label("concern", c) for c in m.concerns))
    return f"{i}. " + "｜".join(parts)


def assessment_view(
    s: CaseSummary,
    entry: Assessment,
    *,
    recorded_by: str | None,
    versions: list[tuple[int, datetime]],
    can_edit: bool,
) -> View:
    """One version, read-only; choose an earlier version or start a new one (編集する)."""
    members = members_of(entry)
    household = "\n".join(_member_line(i, m) for i, m in enumerate(members, start=1))
    by = t("card.event_by", user=recorded_by) if recorded_by else ""
    blocks: list = [
        context(t("detail.notice")),
        section(case_line(s)),
        section(
            t("assessment.version_line", version=entry.version, when=when(entry.recorded_at), by=by)
        ),
        section(f"*{t('assessment.household')}*\n{household or t('detail.empty')}"),
        *long_text("assessment.main_issue", entry.main_issue),
        *long_text("assessment.wishes", entry.wishes),
        *long_text("assessment.strengths", entry.strengths),
        *long_text("assessment.risks", entry.risks),
    ]
    elements: list = []
    if len(versions) > 1:
        version_options = [
            option(t("assessment.version_option", version=v, when=when(at)), f"{s.case_id}:{v}")
            for v, at in versions
        ][:100]
        elements.append(
            StaticSelectElement(
                action_id=ids.ACTION_ASSESSMENT_VERSION,
                placeholder=plain(t("assessment.choose_version")),
                options=version_options,
            )
        )
    if can_edit:
        elements.append(
            ButtonElement(
                text=plain(t("assessment.edit")),
                action_id=ids.ACTION_ASSESSMENT_EDIT,
                value=str(s.case_id),
                style="primary",
            )
        )
    if elements:
        blocks.append(ActionsBlock(block_id=ids.BLOCK_ASSESSMENT, elements=elements))
    return modal_view(
        ids.VIEW_ASSESSMENT_SHOW,
        title=t("assessment.title"),
        close=t("detail.close"),
        metadata=forms.metadata(case_id=s.case_id, version=entry.version),
        blocks=blocks,
    )
