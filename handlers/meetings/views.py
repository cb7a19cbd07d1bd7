"""How a meeting looks: the meeting itself, its agenda and minutes, the attendee's list of
meetings and the coordinator's Home section — and the small pieces every meeting view shares.

Messages carry the kind, the time, the place and receipt numbers at most — never a person.
Agendas and minutes are rendered from the templates (handlers/meetings/documents.py) and shown as
plain text in a modal opened on request by an attendee. The forms: schedule_views.py; the
messages and reminders: message_views.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, modal_view, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import t
from handlers.desk.case_views import when
from handlers.meetings.documents import case_facts, meeting_when, when_text
from models.meetings.tables import Meeting, MeetingKind, MeetingState

TEXT_CHUNK = 2900  # a section's text may hold 3000 characters
MODAL_BLOCKS = 100
SHOWN_ATTENDEES = 40
HOME_MEETINGS = 8


# --- the pieces ----------------------------------------------------------------------------------


def kind_name(kind: str) -> str:
    return t(f"meeting.kind.{kind}")


def button(code: str, action_id: str, value: str, style: str | None = None, confirm=None):
    return ButtonElement(
        text=plain(t(code)), action_id=action_id, value=value, style=style, confirm=confirm
    )


def labelled_input(
    block: str, code: str, element, *, optional: bool = False, hint: str | None = None, **kw
) -> InputBlock:
    """A form's field: input block `block` (the name the form's reader asks for), labelled with
    text `code`, holding one element."""
    return InputBlock(
        block_id=block,
        label=plain(t(code)),
        element=element,
        optional=optional,
        hint=plain(hint) if hint else None,
        **kw,
    )


def field(block: str, element, *, optional: bool = False, hint: str | None = None, **kw):
    return labelled_input(
        block, f"meeting.field.{block}", element, optional=optional, hint=hint, **kw
    )


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def place_text(place: str | None) -> str:
    return escape(place) if place else t("meeting.place_undecided")


def chunks(text: str, size: int = TEXT_CHUNK) -> list[str]:
    """Split a document into pieces a section can hold, at line ends where possible."""
    out, current = [], ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            out.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            out.append(current)
            current = ""
        current += line
    if current.strip():
        out.append(current)
    return out or [""]


def document_blocks(text: str) -> list:
    """A Markdown document as plain text (never mrkdwn: it holds what people typed)."""
    return [SectionBlock(text=plain(piece)) for piece in chunks(text)]


def case_option_text(case) -> str:
    """`R8-0001　高齢・75歳以上・アセスメント中（同意あり）` — an option of the cases select."""
    return f"{case.number}　{case_facts(case)}"


def modal(
    callback_id: str,
    title: str,
    blocks: list,
    *,
    submit: str | None = None,
    close: str = "step.cancel",
    metadata: str | None = None,
) -> View:
    """A modal of the meetings and the plan: its title, submit and close texts by code."""
    return modal_view(
        callback_id,
        title=t(title),
        submit=t(submit) if submit else None,
        close=t(close),
        metadata=metadata,
        blocks=blocks,
    )


def _shown(meeting_id: int, title: str, blocks: list) -> View:
    """The meeting, its agenda or minutes: nothing to submit."""
    return modal(
        ids.VIEW_MEETING_SHOW,
        title,
        blocks[:MODAL_BLOCKS],
        close="detail.close",
        metadata=forms.metadata(meeting_id=meeting_id),
    )


# --- the meeting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaLine:
    case_id: int
    number: str
    facts: str
    recorded: bool


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: int
    kind: str
    state: str
    starts_at: datetime
    minutes_long: int
    place: str | None
    attendees: tuple[str, ...]  # Slack ids
    cases: tuple[AgendaLine, ...]
    left_agenda: int  # cases whose consent was withdrawn since
    has_minutes: bool
    series: bool
    started: bool


def _summary_fields(info: MeetingInfo) -> SectionBlock:
    pairs = [
        ("meeting.label.when", when_text(info.starts_at, info.minutes_long)),
        ("meeting.label.place", place_text(info.place)),
        ("meeting.label.state", t(f"meeting.state.{info.state}")),
        ("meeting.label.attendees", t("meeting.people", n=len(info.attendees))),
    ]
    return SectionBlock(fields=[md(f"*{t(c)}*\n{v}") for c, v in pairs])


def _case_lines(info: MeetingInfo, *, record: bool) -> list:
    """The cases on the agenda; 結果を記録する on each when the coordinator may record."""
    blocks: list = [section(t("meeting.cases_title", n=len(info.cases)))]
    for line in info.cases[:30]:
        text = f"*{line.number}*　{line.facts}"
        if line.recorded:
            text += "　" + t("meeting.recorded_mark")
        accessory = None
        if record:
            accessory = button(
                "meeting.button.outcome_again" if line.recorded else "meeting.button.outcome",
                ids.ACTION_MEETING_OUTCOME,
                f"{info.meeting_id}:{line.case_id}",
                style=None if line.recorded else "primary",
            )
        blocks.append(SectionBlock(text=md(text), accessory=accessory))
    if info.left_agenda:
        blocks.append(context(t("meeting.left_agenda", n=info.left_agenda)))
    return blocks


def _meeting_buttons(info: MeetingInfo, *, manage: bool, record: bool) -> list:
    mid = str(info.meeting_id)
    buttons = [button("meeting.button.agenda", ids.ACTION_MEETING_AGENDA, mid)]
    if info.has_minutes:
        buttons.append(button("meeting.button.minutes", ids.ACTION_MEETING_MINUTES, mid))
    if manage and info.state == MeetingState.scheduled and not info.started:
        buttons.append(button("meeting.button.reschedule", ids.ACTION_MEETING_RESCHEDULE, mid))
        buttons.append(button("meeting.button.attendees", ids.ACTION_MEETING_ATTENDEES, mid))
        buttons.append(
            button("meeting.button.cancel", ids.ACTION_MEETING_CANCEL, mid, style="danger")
        )
    if record and info.kind == MeetingKind.linknet:
        buttons.append(
            button("meeting.button.record", ids.ACTION_MEETING_RECORD, mid, style="primary")
        )
    if manage and info.has_minutes:
        buttons.append(
            button(
                "meeting.button.share",
                ids.ACTION_MEETING_SHARE,
                mid,
                confirm=ConfirmObject(
                    title=t("meeting.share_confirm.title"),
                    text=t("meeting.share_confirm.text"),
                    confirm=t("meeting.share_confirm.yes"),
                    deny=t("step.cancel"),
                ),
            )
        )
    return buttons


def meeting_modal(info: MeetingInfo, *, manage: bool) -> View:
    """The meeting for an attendee (agenda, minutes) or the coordinator (also its steps)."""
    blocks: list = [HeaderBlock(text=plain(kind_name(info.kind))), _summary_fields(info)]
    if info.series:
        blocks.append(context(t("meeting.series_note")))
    shown = " ".join(f"<@{u}>" for u in info.attendees[:SHOWN_ATTENDEES])
    if len(info.attendees) > SHOWN_ATTENDEES:
        shown += " " + t("meeting.more_people", n=len(info.attendees) - SHOWN_ATTENDEES)
    blocks.append(context(shown or t("meeting.nobody")))
    record = manage and info.started and info.state != MeetingState.cancelled
    if info.kind != MeetingKind.linknet:
        blocks += _case_lines(info, record=record)
    buttons = _meeting_buttons(info, manage=manage, record=record)
    blocks.append(ActionsBlock(block_id=f"{ids.BLOCK_MEETING}{info.meeting_id}", elements=buttons))
    if manage and record and info.kind != MeetingKind.linknet:
        blocks.append(context(t("meeting.record_hint")))
    return _shown(info.meeting_id, "meeting.title.meeting", blocks)


def agenda_modal(
    info: MeetingInfo, text: str, *, detail_for: list[AgendaLine], note: str | None = None
) -> View:
    """The agenda (次第) as the template renders it; 詳細 buttons for the cases the viewer may
    see in detail (the handler decides, and checks again on click)."""
    blocks: list = [*document_blocks(text)]
    if info.left_agenda:
        blocks.append(context(t("meeting.left_agenda", n=info.left_agenda)))
    if detail_for:
        blocks.append(context(t("meeting.detail_note")))
        buttons = [
            ButtonElement(
                text=plain(t("meeting.button.case_detail", number=line.number)),
                action_id=ids.ACTION_MEETING_CASE,
                value=f"{info.meeting_id}:{line.case_id}",
            )
            for line in detail_for[:25]
        ]
        for i in range(0, len(buttons), 5):
            blocks.append(
                ActionsBlock(block_id=f"{ids.BLOCK_AGENDA_CASES}{i}", elements=buttons[i : i + 5])
            )
    if note:
        blocks.append(context(note))
    return _shown(info.meeting_id, "meeting.title.agenda", blocks)


def minutes_modal(meeting_id: int, text: str) -> View:
    blocks = [*document_blocks(text), context(t("meeting.minutes_note"))]
    return _shown(meeting_id, "meeting.title.minutes", blocks)


# --- lists of meetings ---------------------------------------------------------------------------


def meetings_list(rows: list[tuple[Meeting, int]]) -> tuple[str, list[dict]]:
    """`/tsunagi meeting` for an attendee: their next meetings, each with 開く."""
    if not rows:
        return t("meeting.list_none"), [section(t("meeting.list_none")).to_dict()]
    blocks: list = [section(t("meeting.list_title"))]
    for meeting, cases in rows[:10]:
        text = t(
            "meeting.list_line",
            kind=kind_name(meeting.kind),
            when=meeting_when(meeting),
            cases=cases,
        )
        blocks.append(
            SectionBlock(
                text=md(text),
                accessory=button("home.open", ids.ACTION_MEETING_OPEN, str(meeting.id)),
            )
        )
    return t("meeting.list_title"), [b.to_dict() for b in blocks]


def home_meetings(desk, *, header) -> list:
    """The coordinator's Home: meetings awaiting their record first, then the next ones; each
    opens with 開く."""
    blocks: list = [header]
    items = list(desk.meetings or ())[:HOME_MEETINGS]
    if not items:
        blocks.append(context(t("home.meetings_none")))
    for m in items:
        text = t("home.meeting", kind=kind_name(m.kind), when=when(m.at), cases=m.cases)
        if m.awaiting:
            text = "⏳ " + text + "　" + t("meeting.awaiting_record")
        accessory = None
        if m.meeting_id is not None:
            accessory = button("home.open", ids.ACTION_MEETING_OPEN, str(m.meeting_id))
        blocks.append(SectionBlock(text=md(text), accessory=accessory))
    blocks.append(
        ActionsBlock(
            block_id=ids.BLOCK_MEETINGS_HOME,
            elements=[
                button(
                    "meeting.button.new", ids.ACTION_MEETING_NEW, MeetingKind.saponet, "primary"
                ),
                button("meeting.button.new_linknet", ids.ACTION_MEETING_NEW, MeetingKind.linknet),
            ],
        )
    )
    return blocks
