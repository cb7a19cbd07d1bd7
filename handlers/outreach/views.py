"""Outreach in Slack, what every screen shares: a target's line (label and coarse facts), the
answers, the list, the Home tab's menu, the case's button, the reminder and consent messages.
Pure builders: data in, blocks out. Each form has its own module (create_views, contact_views,
state_views, detail_views).

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
    InputBlock,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import ids
from handlers.common.blocks import context, modal_view, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.notices.views import Rendered
from handlers.reminders.views import ReminderContent
from models.meetings.tables import Meeting
from models.org.tables import Agency
from models.outreach.listing import TargetLine
from models.outreach.tables import OutreachTarget

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


# --- the forms' fields (create_views, contact_views, state_views) --------------------------------


def agency_select(
    block: str, agencies: list[Agency], *, chosen: list[int], hint: str
) -> InputBlock:
    """Which agencies (visit, or are covered by a consent): the ones chosen already preselected."""
    options = [option(a.name, str(a.id)) for a in agencies][:100]
    picked = [o for o in options if int(o.value) in set(chosen)]
    return InputBlock(
        block_id=block,
        label=plain(t(f"outreach.field.{block}")),
        hint=plain(hint),
        element=StaticMultiSelectElement(
            action_id=ids.VALUE,
            placeholder=plain(t("outreach.create.choose")),
            options=options,
            initial_options=picked or None,
        ),
    )


def radio(block: str, options: list) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=plain(t(f"outreach.field.{block}")),
        element=RadioButtonsElement(action_id=ids.VALUE, options=options),
    )


def free_text(block: str, title: str, *, limit: int, optional: bool = False) -> InputBlock:
    """A reason or a note, in a person's words: the form says how such text is kept."""
    return InputBlock(
        block_id=block,
        label=plain(title),
        optional=optional or None,
        hint=plain(t("outreach.free_text_notice")),
        element=PlainTextInputElement(action_id=ids.VALUE, multiline=True, max_length=limit),
    )


def date_input(block: str, initial: date, *, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=plain(t(f"outreach.field.{block}")),
        hint=plain(hint) if hint else None,
        element=DatePickerElement(action_id=ids.VALUE, initial_date=initial.isoformat()),
    )


# --- answers -------------------------------------------------------------------------------------


def agenda_button(target_id: int, meeting) -> ButtonElement:
    return ButtonElement(
        text=plain(t("outreach.button.agenda", when=when(meeting.starts_at))[:75]),
        action_id=ids.ACTION_OUTREACH_AGENDA,
        value=f"{target_id}:{meeting.id}",
        style="primary",
    )


def done_modal(text: str, *, agenda: ButtonElement | None = None) -> View:
    blocks: list = [section(text)]
    if agenda is not None:
        blocks.append(ActionsBlock(block_id=ids.BLOCK_OUTREACH_AGENDA, elements=[agenda]))
    return modal_view(
        ids.VIEW_NOTICE,
        title=t("outreach.done_title"),
        close=t("outreach.close"),
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


# --- the Home tab's line (handlers/home/views.py draws the section) and the case's button --------


def target_menu(x: TargetLine) -> OverflowMenuElement:
    """A line's menu on the Home tab: 接触を記録する (while open), 詳しく見る."""
    options = []
    if x.state in ("active", "paused"):
        options.append(option(t("outreach.button.log"), f"log:{x.target_id}"))
    options.append(option(t("outreach.button.open"), f"open:{x.target_id}"))
    return OverflowMenuElement(action_id=ids.ACTION_OUTREACH_MENU, options=options)


def case_blocks(case_id: int, *, listed: OutreachTarget | None) -> list:
    """The case desk's detail modal: open the case's listed target, or register its person."""
    if listed is not None:
        button = ButtonElement(
            text=plain(t("outreach.button.open_listed", label=listed.label)),
            action_id=ids.ACTION_OUTREACH_OPEN,
            value=str(listed.id),
        )
    else:
        button = ButtonElement(
            text=plain(t("outreach.button.from_case")),
            action_id=ids.ACTION_OUTREACH_FROM_CASE,
            value=str(case_id),
        )
    return [ActionsBlock(block_id=f"{ids.BLOCK_OUTREACH_CASE}{case_id}", elements=[button])]


# --- messages (outbox notices and reminders): labels and coarse facts only -----------------------


def assigned_message(x: TargetLine, *, agency: str) -> Rendered:
    """To an agency that will visit, at registration: the number, the cadence, the first
    contact date and the other agencies — never the person."""
    params = dict(
        label=x.label,
        agency=escape(agency),
        cadence=cadence_text(x.cadence_days),
        day=day(x.next_contact_on),
        agencies=escape("、".join(x.agencies)),
    )
    blocks = [
        section(t("outreach.assigned.body", **params)),
        context(t("outreach.assigned.note")),
    ]
    text = t("outreach.assigned.text", **params)
    return Rendered(text=text, blocks=[b.to_dict() for b in blocks])


def reminder_outcome(x: TargetLine, *, event: str, who: str, at) -> str:
    """A contact reminder once answered: the contact recorded ("logged"; the next date), or the
    target paused or closed ("changed")."""
    subject = t("reminder.subject_of.outreach", label=x.label)
    if event == "logged":
        return t(
            "reminder.outcome.contact_logged",
            subject=subject,
            when=when(at),
            who=who,
            day=day(x.next_contact_on),
        )
    state = label("outreach_state", x.state)
    changed = "reminder.outcome.contact_changed"
    return t(changed, subject=subject, when=when(at), who=who, state=state)


def reminder_content(x: TargetLine, key: str, *, outcome: str | None = None) -> ReminderContent:
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
        subject=t("reminder.subject_of.outreach", label=x.label),
        outcome=outcome,
        buttons=(
            ButtonElement(
                text=plain(t("outreach.button.log")),
                action_id=ids.ACTION_OUTREACH_LOG,
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
    blocks.append(
        ActionsBlock(block_id=f"{ids.BLOCK_OUTREACH_CONSENT}{target_id}", elements=elements)
    )
    return Rendered(
        text=t("outreach.consent_notice.text", **params), blocks=[b.to_dict() for b in blocks]
    )
