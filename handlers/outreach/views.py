"""Outreach in Slack: the forms, the target's modal, the App Home section, the reminder and
consent messages. Pure builders: data in, blocks out.

Lists and messages name a target by its label (OT-0001) with coarse facts (state, cadence,
dates, agencies). The person, the reason and the notes appear only in the target's modal,
opened on request by an entitled member (the listener audits it); user text is shown as
plain_text or escaped.
"""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, labelled_options, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.notices.views import Rendered
from handlers.reminders.views import ReminderContent
from models.cases.concerns import AGE_BANDS
from models.meetings.tables import Meeting
from models.org.tables import Agency
from models.outreach.listing import DeskSection, Due, TargetDetail, TargetLine
from models.outreach.tables import (
    CADENCES,
    NOTE_LIMIT,
    PERSON_LIMITS,
    REASON_LIMIT,
    ContactOutcome,
    Method,
    ReasonKind,
)

# Action ids (handlers/outreach/listeners.py listens); values are target ids unless said otherwise.
ACTION_NEW = "outreach_new"  # App Home: register a target on its own
ACTION_FROM_CASE = "outreach_from_case"  # case detail modal; value: case id
ACTION_OPEN = "outreach_open"  # the target's modal (personal details; audited)
ACTION_LOG = "outreach_log"  # 接触を記録する
ACTION_MENU = "outreach_menu"  # App Home overflow; option value "<log|open>:<target id>"
ACTION_OUTCOME = "outreach_outcome"  # the outcome radio of the contact form (updates the form)
ACTION_PAUSE = "outreach_pause"
ACTION_RESUME = "outreach_resume"
ACTION_CLOSE = "outreach_close"
ACTION_AGENDA = "outreach_agenda"  # value: "<target id>:<meeting id>"
VIEW_CREATE = "outreach_create"
VIEW_CONTACT = "outreach_contact"
VIEW_STATE = "outreach_state"  # pause / resume / close; the kind in private_metadata

HOME_SECTION = "outreach"
PERSON_FIELDS = ("name", "kana", "district", "whereabouts", "contact")
SECTION_TEXT = 2800


def day(d: date) -> str:
    return f"{d.month}/{d.day}（{t('outreach.weekday')[d.weekday()]}）"


def cadence_text(days: int) -> str:
    if days % 7 == 0:
        return t("outreach.cadence_weeks", weeks=days // 7)
    return t("outreach.cadence_days", days=days)


def due_text(x: TargetLine) -> str:
    return t(f"outreach.due.{x.due.value}", day=day(x.next_contact_on))


def line_text(x: TargetLine, *, with_state: bool = False) -> str:
    """`*OT-0001*　⚠️ 12/1（火）の接触予定を過ぎています｜2週ごと｜高齢者相談支援センター`"""
    parts = [due_text(x), cadence_text(x.cadence_days)]
    if with_state and x.state == "active":
        parts.insert(0, label("outreach_state", x.state))
    agencies = "、".join(escape(a) for a in x.agencies)
    text = f"*{x.label}*　" + "｜".join(parts) + (f"｜{agencies}" if agencies else "")
    if x.last_contact_on:
        text += "\n" + t(
            "outreach.last_contact",
            day=day(x.last_contact_on),
            outcome=label("outreach_outcome", x.last_outcome),
        )
    return text


def _agency_options(agencies: list[Agency]) -> list:
    return [option(a.name, str(a.id)) for a in agencies][:100]


def _initial(options: list, chosen: list[int]) -> list | None:
    picked = [o for o in options if int(o.value) in set(chosen)]
    return picked or None


# --- registering a target ------------------------------------------------------------------------


def create_modal(
    *,
    agencies: list[Agency],
    districts: list[str],
    today_: date,
    initial_agencies: list[int],
    case_id: int | None = None,
    case_number: str | None = None,
) -> View:
    agency_options = _agency_options(agencies)
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
                options=agency_options,
                initial_options=_initial(agency_options, initial_agencies),
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
        callback_id=VIEW_CREATE,
        private_metadata=forms.metadata(case_id=case_id),
        title=plain(t("outreach.create.title")),
        submit=plain(t("outreach.create.submit")),
        close=plain(t("outreach.cancel")),
        blocks=blocks,
    )


def read_target(view: dict):
    from models.outreach.targets import TargetInput

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


# --- logging a contact ---------------------------------------------------------------------------


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
        InputBlock(
            block_id="method",
            label=plain(t("outreach.field.method")),
            element=RadioButtonsElement(
                action_id=ids.VALUE, options=labelled_options("outreach_method", list(Method))
            ),
        ),
        InputBlock(
            block_id="outcome",
            label=plain(t("outreach.field.outcome")),
            dispatch_action=True,
            element=RadioButtonsElement(
                action_id=ACTION_OUTCOME,
                options=labelled_options("outreach_outcome", list(ContactOutcome)),
                initial_option=option(label("outreach_outcome", "consented"), "consented")
                if consented
                else None,
            ),
        ),
        InputBlock(
            block_id="note",
            label=plain(t("outreach.field.note")),
            optional=True,
            hint=plain(t("outreach.free_text_notice")),
            element=PlainTextInputElement(
                action_id=ids.VALUE, multiline=True, max_length=NOTE_LIMIT
            ),
        ),
    ]
    if consented:
        agency_options = _agency_options(agencies)
        blocks += [
            InputBlock(
                block_id="consent_method",
                label=plain(t("outreach.field.consent_method")),
                element=RadioButtonsElement(
                    action_id=ids.VALUE,
                    options=labelled_options("consent_method", ["oral", "written"]),
                ),
            ),
            InputBlock(
                block_id="consent_agencies",
                label=plain(t("outreach.field.consent_agencies")),
                hint=plain(t("outreach.contact.consent_agencies_hint")),
                element=StaticMultiSelectElement(
                    action_id=ids.VALUE,
                    placeholder=plain(t("outreach.create.choose")),
                    options=agency_options,
                    initial_options=_initial(agency_options, assigned),
                ),
            ),
            context(t("outreach.contact.consent_what_happens")),
        ]
    else:
        blocks += [
            InputBlock(
                block_id="next_contact_on",
                label=plain(t("outreach.field.next_contact_on")),
                hint=plain(t("outreach.contact.next_hint", cadence=cadence_text(x.cadence_days))),
                element=DatePickerElement(action_id=ids.VALUE, initial_date=proposed.isoformat()),
            ),
            context(t("outreach.contact.consent_hint")),
        ]
    return View(
        type="modal",
        callback_id=VIEW_CONTACT,
        private_metadata=forms.metadata(target_id=x.target_id),
        title=plain(t("outreach.contact.title")),
        submit=plain(t("outreach.contact.submit")),
        close=plain(t("outreach.cancel")),
        blocks=blocks,
    )


def read_contact(view: dict):
    from models.outreach.contacts import ContactInput

    return ContactInput(
        method=forms.value(view, "method"),
        outcome=forms.value(view, "outcome"),
        note=forms.value(view, "note"),
        next_contact_on=forms.date_value(view, "next_contact_on"),
        consent_method=forms.value(view, "consent_method"),
        consent_agency_ids=forms.int_values(view, "consent_agencies", unknown=-1),
    )


# --- pause, resume, close ------------------------------------------------------------------------

STATE_KINDS = ("pause", "resume", "close")


def state_modal(x: TargetLine, kind: str, *, proposed: date) -> View:
    blocks: list = [
        section(line_text(x)),
        context(t(f"outreach.state.{kind}.intro")),
        InputBlock(
            block_id="reason",
            label=plain(t(f"outreach.state.{kind}.reason")),
            hint=plain(t("outreach.free_text_notice")),
            element=PlainTextInputElement(
                action_id=ids.VALUE, multiline=True, max_length=REASON_LIMIT
            ),
        ),
    ]
    if kind == "resume":
        blocks.append(
            InputBlock(
                block_id="next_contact_on",
                label=plain(t("outreach.field.next_contact_on")),
                element=DatePickerElement(action_id=ids.VALUE, initial_date=proposed.isoformat()),
            )
        )
    return View(
        type="modal",
        callback_id=VIEW_STATE,
        private_metadata=forms.metadata(target_id=x.target_id, kind=kind),
        title=plain(t(f"outreach.state.{kind}.title")),
        submit=plain(t(f"outreach.state.{kind}.submit")),
        close=plain(t("outreach.cancel")),
        blocks=blocks,
    )


# --- the target (personal details: entitled members only, audited) -------------------------------


def _value(value: str | None) -> str:
    return escape(value) if value else t("outreach.detail.empty")


def _history(d: TargetDetail) -> str:
    rows = []
    for c in d.contacts:
        row = t(
            "outreach.detail.contact_line",
            when=when(c.at),
            method=label("outreach_method", c.method),
            outcome=label("outreach_outcome", c.outcome),
            user=c.by or "-",
        )
        if c.note:
            row += "\n　" + escape(c.note[:300])
        rows.append(row)
    return "\n".join(rows)[:SECTION_TEXT] or t("outreach.detail.no_contacts")


def detail_modal(
    d: TargetDetail,
    *,
    can_log: bool,
    can_pause: bool,
    can_close: bool,
) -> View:
    x = d.line
    person = d.person
    blocks: list = [
        context(t("outreach.detail.notice")),
        section(line_text(x, with_state=True)),
    ]
    facts = [
        f"*{t('outreach.detail.state')}*　{label('outreach_state', x.state)}",
        f"*{t('outreach.field.reason_kind')}*　{label('outreach_reason', x.reason_kind)}",
        f"*{t('outreach.field.age_band')}*　{label('age_band', d.age_band)}",
        f"*{t('outreach.field.cadence')}*　{cadence_text(x.cadence_days)}",
        f"*{t('outreach.field.next_contact_on')}*　{day(x.next_contact_on)}",
        f"*{t('outreach.field.agencies')}*　{escape('、'.join(x.agencies))}",
        t("outreach.detail.created", user=d.created_by or "-", when=when(d.created_at)),
    ]
    if x.case_number:
        facts.insert(1, f"*{t('outreach.detail.case')}*　{x.case_number}")
    blocks.append(section("\n".join(facts)))
    if not x.case_number or person:
        blocks.append(
            section(
                "\n".join(
                    f"*{t(f'outreach.field.{k}')}*　{_value(person.get(k))}" for k in PERSON_FIELDS
                )[:SECTION_TEXT]
            )
        )
    else:
        blocks.append(context(t("outreach.detail.person_in_case", number=x.case_number)))
    blocks.append(section(f"*{t('outreach.field.reason')}*\n{_value(d.reason)}"[:SECTION_TEXT]))
    if d.state_reason and x.state in ("paused", "closed", "active"):
        blocks.append(
            section(
                f"*{t('outreach.detail.state_reason')}*\n{_value(d.state_reason)}"[:SECTION_TEXT]
            )
        )
    blocks += [DividerBlock(), section(f"*{t('outreach.detail.history')}*\n{_history(d)}")]
    buttons = []
    if can_log and x.state in ("active", "paused"):
        buttons.append(
            ButtonElement(
                text=plain(t("outreach.button.log")),
                action_id=ACTION_LOG,
                value=str(x.target_id),
                style="primary",
            )
        )
    if can_pause and x.state == "active":
        buttons.append(
            ButtonElement(
                text=plain(t("outreach.button.pause")),
                action_id=ACTION_PAUSE,
                value=str(x.target_id),
            )
        )
    if can_pause and x.state == "paused":
        buttons.append(
            ButtonElement(
                text=plain(t("outreach.button.resume")),
                action_id=ACTION_RESUME,
                value=str(x.target_id),
            )
        )
    if can_close and x.state in ("active", "paused"):
        buttons.append(
            ButtonElement(
                text=plain(t("outreach.button.close")),
                action_id=ACTION_CLOSE,
                value=str(x.target_id),
                style="danger",
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"outreach:{x.target_id}", elements=buttons))
    return View(
        type="modal",
        callback_id=ids.VIEW_NOTICE,
        title=plain(t("outreach.detail.title", label=x.label)[:24]),
        close=plain(t("outreach.close")),
        blocks=blocks,
    )


# --- answers -------------------------------------------------------------------------------------


def agenda_button(target_id: int, meeting) -> ButtonElement:
    return ButtonElement(
        text=plain(t("outreach.button.agenda", when=when(meeting.starts_at))[:75]),
        action_id=ACTION_AGENDA,
        value=f"{target_id}:{meeting.id}",
        style="primary",
    )


def done_modal(text: str, *, agenda: ButtonElement | None = None) -> View:
    blocks: list = [section(text)]
    if agenda is not None:
        blocks.append(ActionsBlock(block_id="outreach_agenda", elements=[agenda]))
    return View(
        type="modal",
        callback_id=ids.VIEW_NOTICE,
        title=plain(t("outreach.done_title")),
        close=plain(t("outreach.close")),
        blocks=blocks,
    )


def list_text(found: list[TargetLine], *, everyone: bool) -> str:
    """`/tsunagi outreach list`: labels, states, cadence and dates — no person."""
    if not found:
        return t("outreach.list.none")
    title = t("outreach.list.title_all" if everyone else "outreach.list.title", count=len(found))
    rows = [line_text(x, with_state=True).replace("\n", "　") for x in found[:30]]
    if len(found) > 30:
        rows.append(t("outreach.list.more", count=len(found) - 30))
    return title + "\n" + "\n".join(rows)


# --- App Home ------------------------------------------------------------------------------------


def _menu(x: TargetLine) -> OverflowMenuElement:
    options = []
    if x.state in ("active", "paused"):
        options.append(option(t("outreach.button.log"), f"log:{x.target_id}"))
    options.append(option(t("outreach.button.open"), f"open:{x.target_id}"))
    return OverflowMenuElement(action_id=ACTION_MENU, options=options)


def home_section(desk) -> list:
    """models/desk/desk.py SECTION_SOURCES["outreach"]: the member's contacts, or the whole list."""
    from handlers.home.views import _pager

    data: DeskSection = desk.extra[HOME_SECTION]
    page = data.page
    title = "outreach.home.title_all" if data.everyone else "outreach.home.title"
    blocks: list = [HeaderBlock(text=plain(t(title, count=page.total)[:150]))]
    counts = data.counts
    blocks.append(
        context(
            t(
                "outreach.home.counts",
                overdue=counts.get(Due.overdue.value, 0),
                today=counts.get(Due.today.value, 0),
                week=counts.get(Due.this_week.value, 0),
                paused=counts.get(Due.paused.value, 0),
            )
        )
    )
    if not page.items:
        blocks.append(context(t("outreach.home.none")))
    for x in page.items:
        blocks.append(
            SectionBlock(
                block_id=f"outreach_target:{x.target_id}",
                text=MarkdownTextObject(text=line_text(x, with_state=data.everyone)),
                accessory=_menu(x),
            )
        )
    blocks += _pager(HOME_SECTION, page)
    if data.can_create:
        blocks.append(
            ActionsBlock(
                block_id="outreach_home",
                elements=[
                    ButtonElement(text=plain(t("outreach.button.new")), action_id=ACTION_NEW)
                ],
            )
        )
    return blocks


# --- messages (outbox notices and reminders): labels and coarse facts only -----------------------


def reminder_content(x: TargetLine, key: str) -> ReminderContent:
    """A contact due ("contact") or overdue ("overdue"): label, date, cadence, agencies."""
    params = dict(
        label=x.label,
        day=day(x.next_contact_on),
        cadence=cadence_text(x.cadence_days),
        agencies=escape("、".join(x.agencies)),
    )
    facts = None
    if x.state != "active":
        facts = t("outreach.reminder.state_now", state=label("outreach_state", x.state))
    elif x.last_contact_on:
        facts = t(
            "outreach.last_contact",
            day=day(x.last_contact_on),
            outcome=label("outreach_outcome", x.last_outcome),
        )
    return ReminderContent(
        text=t(f"outreach.reminder.{key}.text", **params),
        body=t(f"outreach.reminder.{key}.body", **params),
        facts=facts,
        buttons=(
            ButtonElement(
                text=plain(t("outreach.button.log")),
                action_id=ACTION_LOG,
                value=str(x.target_id),
                style="primary",
            ),
        ),
    )


def consent_message(
    *,
    target_id: int,
    target_label: str,
    case_id: int,
    number: str,
    state: str,
    meeting: Meeting | None,
    on_agenda: bool,
) -> Rendered:
    """To the coordinator: consent was obtained; where the case went; the agenda offer."""
    params = dict(label=target_label, number=number, state=label("state", state))
    blocks: list = [section(t("outreach.consent_notice.body", **params))]
    elements: list = [
        ButtonElement(
            text=plain(t("card.detail_button")),
            action_id=ids.ACTION_CASE_DETAIL,
            value=str(case_id),
        )
    ]
    if meeting is None:
        blocks.append(context(t("outreach.agenda.no_meeting")))
    elif on_agenda:
        blocks.append(context(t("outreach.agenda.already", when=when(meeting.starts_at))))
    else:
        elements.insert(0, agenda_button(target_id, meeting))
    blocks.append(ActionsBlock(block_id=f"outreach_consent:{target_id}", elements=elements))
    return Rendered(
        text=t("outreach.consent_notice.text", **params), blocks=[b.to_dict() for b in blocks]
    )
