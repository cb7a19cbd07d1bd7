"""How meetings look: the scheduling modal, the meeting, its agenda and minutes, the messages
attendees get (invitation, change, minutes ready) and the meeting reminders.

Messages carry the kind, the time, the place and receipt numbers at most — never a person.
Agendas and minutes are rendered from the templates (handlers/meetings/documents.py) and shown as
plain text in a modal opened on request by an attendee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, option, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import t
from handlers.meetings.documents import case_values, when_text
from handlers.notices.views import Obsolete, Rendered, renders
from handlers.reminders.views import ReminderContent, reminder_view
from models.base.clock import TOKYO
from models.meetings.minutes import minutes_of
from models.meetings.rules import attendees
from models.meetings.tables import (
    LENGTH_CHOICES,
    PLACE_LIMIT,
    REMIND_BEFORE_CHOICES,
    Meeting,
    MeetingKind,
    MeetingState,
)
from models.org.tables import Agency
from models.queues.tables import Notice, Reminder
from reminders.meetings import MEETING_EVE, MEETING_SOON, meeting_of

TEXT_CHUNK = 2900  # a section's text may hold 3000 characters
MODAL_BLOCKS = 100
REPEAT_CHOICES = ("none", "same_week", "last_week")
KINDS = tuple(MeetingKind)


def kind_name(kind: str) -> str:
    return t(f"meeting.kind.{kind}")


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


# --- scheduling ----------------------------------------------------------------------------------


def _attendee_inputs(kind, agencies, *, users, agencies_hint: str) -> list:
    """Who attends: by name, and (when there are agencies to offer) whole agencies."""
    blocks = [
        _input(
            "members",
            UserMultiSelectElement(action_id=ids.VALUE, initial_users=users),
            optional=True,
            hint=t(f"meeting.hint.members_{kind}"),
        )
    ]
    if agencies:
        blocks.append(
            _input(
                "agencies",
                StaticMultiSelectElement(
                    action_id=ids.VALUE,
                    options=[option(a.name, str(a.id)) for a in agencies[:100]],
                ),
                optional=True,
                hint=t(agencies_hint),
            )
        )
    return blocks


def _input(block: str, element, *, optional: bool = False, hint: str | None = None, **kw):
    return InputBlock(
        block_id=block,
        label=plain(t(f"meeting.field.{block}")),
        element=element,
        optional=optional,
        hint=plain(hint) if hint else None,
        **kw,
    )


def _minutes_option(n: int) -> str:
    return t("meeting.length", n=n)


def _remind_option(n: int) -> str:
    return t("meeting.remind.none") if n == 0 else t("meeting.remind.before", n=n)


def schedule_modal(
    kind: str,
    *,
    agencies: list[Agency],
    organiser: str,
    first_day: date,
) -> View:
    """The coordinator's form for a new meeting; its fields follow the kind chosen first."""
    kind = MeetingKind(kind)
    blocks: list = [
        section(t(f"meeting.intro.{kind}")),
        InputBlock(
            block_id="kind",
            label=plain(t("meeting.field.kind")),
            dispatch_action=True,
            element=StaticSelectElement(
                action_id=ids.ACTION_MEETING_KIND,
                options=[option(kind_name(k), k) for k in KINDS],
                initial_option=option(kind_name(kind), kind),
            ),
        ),
        _input("date", DatePickerElement(action_id=ids.VALUE, initial_date=first_day.isoformat())),
        _input(
            "time",
            TimePickerElement(action_id=ids.VALUE, initial_time="13:30", timezone="Asia/Tokyo"),
        ),
        _input(
            "length",
            StaticSelectElement(
                action_id=ids.VALUE,
                options=[option(_minutes_option(n), str(n)) for n in LENGTH_CHOICES],
                initial_option=option(_minutes_option(60), "60"),
            ),
        ),
        _input(
            "place",
            PlainTextInputElement(action_id=ids.VALUE, max_length=PLACE_LIMIT),
            optional=True,
            hint=t("meeting.hint.place"),
        ),
        *_attendee_inputs(kind, agencies, users=[organiser], agencies_hint="meeting.hint.agencies"),
    ]
    if kind is MeetingKind.linknet:
        blocks += [
            _input(
                "topics",
                PlainTextInputElement(action_id=ids.VALUE, multiline=True, max_length=2000),
                optional=True,
                hint=t("meeting.hint.topics"),
            ),
            _input(
                "repeat",
                RadioButtonsElement(
                    action_id=ids.VALUE,
                    options=[option(t(f"meeting.repeat.{r}"), r) for r in REPEAT_CHOICES],
                    initial_option=option(t("meeting.repeat.none"), "none"),
                ),
                hint=t("meeting.hint.repeat"),
            ),
        ]
    else:
        blocks.append(
            _input(
                "cases",
                ExternalDataMultiSelectElement(
                    action_id=ids.ACTION_MEETING_CASES,
                    min_query_length=0,
                    placeholder=plain(t("meeting.hint.cases_placeholder")),
                ),
                optional=True,
                hint=t(f"meeting.hint.cases_{kind}"),
            )
        )
    blocks.append(
        _input(
            "remind",
            StaticSelectElement(
                action_id=ids.VALUE,
                options=[option(_remind_option(n), str(n)) for n in REMIND_BEFORE_CHOICES],
                initial_option=option(_remind_option(60), "60"),
            ),
            hint=t("meeting.hint.remind"),
        )
    )
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_SCHEDULE,
        private_metadata=forms.metadata(kind=kind.value),
        title=plain(t("meeting.title.schedule")),
        submit=plain(t("meeting.submit.schedule")),
        close=plain(t("step.cancel")),
        blocks=blocks,
    )


def case_option_text(case) -> str:
    """`R8-0001　高齢・75歳以上・アセスメント中（同意あり）` — an option of the cases select."""
    v = case_values(case)
    return f"{v['number']}　{v['domains']}・{v['age_band']}・{v['state']}"


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


def meeting_info(session, meeting: Meeting, *, now: datetime) -> MeetingInfo:
    from handlers.meetings.documents import lawful_agenda
    from models.plans.outcomes import outcome_of

    cases, left = lawful_agenda(session, meeting)
    lines = []
    for case in cases:
        v = case_values(case)
        lines.append(
            AgendaLine(
                case_id=case.id,
                number=case.number,
                facts=f"{v['domains']}・{v['age_band']}・{v['state']}",
                recorded=outcome_of(session, meeting.id, case.id) is not None,
            )
        )
    return MeetingInfo(
        meeting_id=meeting.id,
        kind=meeting.kind,
        state=meeting.state,
        starts_at=meeting.starts_at,
        minutes_long=meeting.minutes_long,
        place=meeting.place,
        attendees=tuple(m.slack_id for m in attendees(session, meeting.id)),
        cases=tuple(lines),
        left_agenda=left,
        has_minutes=minutes_of(session, meeting.id) is not None,
        series=meeting.series_id is not None,
        started=meeting.starts_at <= now,
    )


def _button(code: str, action_id: str, value: str, style: str | None = None, confirm=None):
    return ButtonElement(
        text=plain(t(code)), action_id=action_id, value=value, style=style, confirm=confirm
    )


def _summary_fields(info: MeetingInfo) -> SectionBlock:
    place = escape(info.place) if info.place else t("meeting.place_undecided")
    pairs = [
        ("meeting.label.when", when_text(info.starts_at, info.minutes_long)),
        ("meeting.label.place", place),
        ("meeting.label.state", t(f"meeting.state.{info.state}")),
        ("meeting.label.attendees", t("meeting.people", n=len(info.attendees))),
    ]
    from slack_sdk.models.blocks import MarkdownTextObject

    return SectionBlock(fields=[MarkdownTextObject(text=f"*{t(c)}*\n{v}") for c, v in pairs])


def meeting_modal(info: MeetingInfo, *, manage: bool) -> View:
    """The meeting for an attendee (agenda, minutes) or the coordinator (also its steps)."""
    mid = str(info.meeting_id)
    blocks: list = [HeaderBlock(text=plain(kind_name(info.kind))), _summary_fields(info)]
    if info.series:
        blocks.append(context(t("meeting.series_note")))
    shown = " ".join(f"<@{u}>" for u in info.attendees[:40])
    if len(info.attendees) > 40:
        shown += " " + t("meeting.more_people", n=len(info.attendees) - 40)
    blocks.append(context(shown or t("meeting.nobody")))
    record = manage and info.started and info.state != MeetingState.cancelled
    if info.kind != MeetingKind.linknet:
        blocks.append(section(t("meeting.cases_title", n=len(info.cases))))
        for line in info.cases[:30]:
            text = f"*{line.number}*　{line.facts}"
            if line.recorded:
                text += "　" + t("meeting.recorded_mark")
            accessory = None
            if record:
                accessory = _button(
                    "meeting.button.outcome_again" if line.recorded else "meeting.button.outcome",
                    ids.ACTION_MEETING_OUTCOME,
                    f"{info.meeting_id}:{line.case_id}",
                    style=None if line.recorded else "primary",
                )
            blocks.append(SectionBlock(text=plain_md(text), accessory=accessory))
        if info.left_agenda:
            blocks.append(context(t("meeting.left_agenda", n=info.left_agenda)))
    buttons = [_button("meeting.button.agenda", ids.ACTION_MEETING_AGENDA, mid)]
    if info.has_minutes:
        buttons.append(_button("meeting.button.minutes", ids.ACTION_MEETING_MINUTES, mid))
    if manage and info.state == MeetingState.scheduled and not info.started:
        buttons.append(_button("meeting.button.reschedule", ids.ACTION_MEETING_RESCHEDULE, mid))
        buttons.append(_button("meeting.button.attendees", ids.ACTION_MEETING_ATTENDEES, mid))
        buttons.append(
            _button("meeting.button.cancel", ids.ACTION_MEETING_CANCEL, mid, style="danger")
        )
    if record and info.kind == MeetingKind.linknet:
        buttons.append(
            _button("meeting.button.record", ids.ACTION_MEETING_RECORD, mid, style="primary")
        )
    if manage and info.has_minutes:
        buttons.append(
            _button(
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
    blocks.append(ActionsBlock(block_id=f"meeting:{mid}", elements=buttons))
    if manage and record and info.kind != MeetingKind.linknet:
        blocks.append(context(t("meeting.record_hint")))
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_SHOW,
        private_metadata=forms.metadata(meeting_id=info.meeting_id),
        title=plain(t("meeting.title.meeting")),
        close=plain(t("detail.close")),
        blocks=blocks[:MODAL_BLOCKS],
    )


def plain_md(text: str):
    from slack_sdk.models.blocks import MarkdownTextObject

    return MarkdownTextObject(text=text)


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
            blocks.append(ActionsBlock(block_id=f"agenda_cases:{i}", elements=buttons[i : i + 5]))
    if note:
        blocks.append(context(note))
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_SHOW,
        private_metadata=forms.metadata(meeting_id=info.meeting_id),
        title=plain(t("meeting.title.agenda")),
        close=plain(t("detail.close")),
        blocks=blocks[:MODAL_BLOCKS],
    )


def minutes_modal(meeting_id: int, text: str) -> View:
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_SHOW,
        private_metadata=forms.metadata(meeting_id=meeting_id),
        title=plain(t("meeting.title.minutes")),
        close=plain(t("detail.close")),
        blocks=[*document_blocks(text), context(t("meeting.minutes_note"))][:MODAL_BLOCKS],
    )


def reschedule_modal(meeting: Meeting) -> View:
    local = meeting.starts_at.astimezone(TOKYO)
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_RESCHEDULE,
        private_metadata=forms.metadata(meeting_id=meeting.id, version=meeting.version),
        title=plain(t("meeting.title.reschedule")),
        submit=plain(t("meeting.submit.reschedule")),
        close=plain(t("step.cancel")),
        blocks=[
            section(
                t(
                    "meeting.reschedule_intro",
                    kind=kind_name(meeting.kind),
                    when=when_text(meeting.starts_at, meeting.minutes_long),
                )
            ),
            _input(
                "date",
                DatePickerElement(action_id=ids.VALUE, initial_date=local.date().isoformat()),
            ),
            _input(
                "time",
                TimePickerElement(
                    action_id=ids.VALUE, initial_time=f"{local:%H:%M}", timezone="Asia/Tokyo"
                ),
            ),
            _input(
                "place",
                PlainTextInputElement(
                    action_id=ids.VALUE, max_length=PLACE_LIMIT, initial_value=meeting.place or ""
                ),
                optional=True,
                hint=t("meeting.hint.place"),
            ),
        ],
    )


def attendees_modal(meeting: Meeting, *, current: list[str], agencies: list[Agency]) -> View:
    """出席者を変える: the current attendees preselected; the same rules as when scheduling."""
    kind = MeetingKind(meeting.kind)
    blocks: list = [
        section(
            t(
                "meeting.attendees_intro",
                kind=kind_name(kind),
                when=when_text(meeting.starts_at, meeting.minutes_long),
            )
        ),
        *_attendee_inputs(
            kind, agencies, users=current or None, agencies_hint="meeting.hint.agencies_add"
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_ATTENDEES,
        private_metadata=forms.metadata(meeting_id=meeting.id, version=meeting.version),
        title=plain(t("meeting.title.attendees")),
        submit=plain(t("meeting.submit.attendees")),
        close=plain(t("step.cancel")),
        blocks=blocks,
    )


def cancel_modal(meeting: Meeting, *, series_active: bool) -> View:
    blocks: list = [
        section(
            t(
                "meeting.cancel_intro",
                kind=kind_name(meeting.kind),
                when=when_text(meeting.starts_at, meeting.minutes_long),
            )
        )
    ]
    if series_active:
        blocks.append(
            _input(
                "series",
                CheckboxesElement(
                    action_id=ids.VALUE, options=[option(t("meeting.stop_series"), "stop")]
                ),
                optional=True,
            )
        )
    return View(
        type="modal",
        callback_id=ids.VIEW_MEETING_CANCEL,
        private_metadata=forms.metadata(meeting_id=meeting.id, version=meeting.version),
        title=plain(t("meeting.title.cancel")),
        submit=plain(t("meeting.submit.cancel")),
        close=plain(t("meeting.back")),
        blocks=blocks,
    )


def linknet_record_modal(meeting: Meeting, *, topics: list[str], notes: list[str]) -> View:
    return View(
        type="modal",
        callback_id=ids.VIEW_LINKNET_MINUTES,
        private_metadata=forms.metadata(meeting_id=meeting.id),
        title=plain(t("meeting.title.record")),
        submit=plain(t("meeting.submit.record")),
        close=plain(t("step.cancel")),
        blocks=[
            section(t("meeting.record_intro")),
            _input(
                "topics",
                PlainTextInputElement(
                    action_id=ids.VALUE,
                    multiline=True,
                    max_length=2000,
                    initial_value="\n".join(topics),
                ),
                optional=True,
                hint=t("meeting.hint.topics"),
            ),
            _input(
                "notes",
                PlainTextInputElement(
                    action_id=ids.VALUE,
                    multiline=True,
                    max_length=2000,
                    initial_value="\n".join(notes),
                ),
                optional=True,
                hint=t("meeting.hint.notes"),
            ),
        ],
    )


def meetings_list(rows: list[tuple[Meeting, int]]) -> tuple[str, list[dict]]:
    """`/tsunagi meeting` for an attendee: their next meetings, each with 開く."""
    if not rows:
        return t("meeting.list_none"), [section(t("meeting.list_none")).to_dict()]
    blocks: list = [section(t("meeting.list_title"))]
    for meeting, cases in rows[:10]:
        text = t(
            "meeting.list_line",
            kind=kind_name(meeting.kind),
            when=when_text(meeting.starts_at, meeting.minutes_long),
            cases=cases,
        )
        blocks.append(
            SectionBlock(
                text=plain_md(text),
                accessory=_button("home.open", ids.ACTION_MEETING_OPEN, str(meeting.id)),
            )
        )
    return t("meeting.list_title"), [b.to_dict() for b in blocks]


# --- messages ------------------------------------------------------------------------------------


def _place(meeting: Meeting) -> str:
    return escape(meeting.place) if meeting.place else t("meeting.place_undecided")


def _agenda_button(meeting: Meeting) -> ButtonElement:
    return _button("meeting.button.agenda", ids.ACTION_MEETING_AGENDA, str(meeting.id), "primary")


def _open_button(meeting: Meeting) -> ButtonElement:
    return _button("meeting.button.open", ids.ACTION_MEETING_OPEN, str(meeting.id))


def _meeting(session, notice: Notice) -> Meeting:
    meeting = session.get(Meeting, notice.payload["meeting_id"])
    if meeting is None:
        raise Obsolete("the meeting is gone")
    return meeting


def _still_invited(session, meeting: Meeting, notice: Notice) -> None:
    """An attendee taken off before the message went out gets only the notice saying so."""
    if notice.target not in {m.slack_id for m in attendees(session, meeting.id)}:
        raise Obsolete("no longer an attendee")


@renders("meeting_invite")
def _invite(session, notice: Notice, late_due: datetime | None) -> Rendered:
    meeting = _meeting(session, notice)
    if meeting.state == MeetingState.cancelled:
        raise Obsolete("the meeting was cancelled before the invitation went out")
    _still_invited(session, meeting, notice)
    values = {
        "kind": kind_name(meeting.kind),
        "when": when_text(meeting.starts_at, meeting.minutes_long),
        "place": _place(meeting),
    }
    blocks = [
        section(t("meeting.invite.body", **values)),
        context(t(f"meeting.invite.note_{meeting.kind}")),
        ActionsBlock(
            block_id=f"meeting:{meeting.id}",
            elements=[_agenda_button(meeting), _open_button(meeting)],
        ),
    ]
    return Rendered(text=t("meeting.invite.text", **values), blocks=[b.to_dict() for b in blocks])


@renders("meeting_changed")
def _changed(session, notice: Notice, late_due: datetime | None) -> Rendered:
    meeting = _meeting(session, notice)
    event = notice.payload.get("event")
    values = {
        "kind": kind_name(meeting.kind),
        "when": when_text(meeting.starts_at, meeting.minutes_long),
        "place": _place(meeting),
    }
    if event == "cancelled":
        blocks = [section(t("meeting.changed.cancelled_body", **values))]
        text = t("meeting.changed.cancelled_text", **values)
    elif event == "uninvited":
        if notice.target in {m.slack_id for m in attendees(session, meeting.id)}:
            raise Obsolete("invited again since")
        blocks = [section(t("meeting.changed.uninvited_body", **values))]
        text = t("meeting.changed.uninvited_text", **values)
    else:
        if meeting.state == MeetingState.cancelled:
            raise Obsolete("cancelled since it moved")
        _still_invited(session, meeting, notice)
        blocks = [
            section(t("meeting.changed.moved_body", **values)),
            ActionsBlock(block_id=f"meeting:{meeting.id}", elements=[_agenda_button(meeting)]),
        ]
        text = t("meeting.changed.moved_text", **values)
    return Rendered(text=text, blocks=[b.to_dict() for b in blocks])


@renders("minutes_ready")
def _minutes_ready(session, notice: Notice, late_due: datetime | None) -> Rendered:
    meeting = _meeting(session, notice)
    values = {
        "kind": kind_name(meeting.kind),
        "when": when_text(meeting.starts_at, meeting.minutes_long),
    }
    blocks = [
        section(t("meeting.minutes_ready.body", **values)),
        ActionsBlock(
            block_id=f"minutes:{meeting.id}",
            elements=[
                _button(
                    "meeting.button.minutes",
                    ids.ACTION_MEETING_MINUTES,
                    str(meeting.id),
                    style="primary",
                )
            ],
        ),
    ]
    return Rendered(
        text=t("meeting.minutes_ready.text", **values), blocks=[b.to_dict() for b in blocks]
    )


# --- reminders -----------------------------------------------------------------------------------


def _meeting_reminder(session, reminder: Reminder, key: str) -> ReminderContent:
    meeting = meeting_of(session, reminder)
    if meeting is None:
        raise Obsolete("the meeting is gone")
    values = {
        "kind": kind_name(meeting.kind),
        "when": when_text(meeting.starts_at, meeting.minutes_long),
        "place": _place(meeting),
    }
    return ReminderContent(
        text=t(f"meeting.reminder.{key}_text", **values),
        body=t(f"meeting.reminder.{key}_body", **values),
        facts=t(f"meeting.invite.note_{meeting.kind}"),
        buttons=(_agenda_button(meeting),),
    )


@reminder_view(MEETING_EVE)
def _eve(session, reminder: Reminder) -> ReminderContent:
    return _meeting_reminder(session, reminder, "eve")


@reminder_view(MEETING_SOON)
def _soon(session, reminder: Reminder) -> ReminderContent:
    return _meeting_reminder(session, reminder, "soon")


def first_free_day(cal, now: datetime) -> date:
    """The first business day after today: the date the scheduling form starts with."""
    return cal.next_business_day(now.astimezone(TOKYO).date())


# --- the coordinator's Home: the meetings -------------------------------------------------------

HOME_MEETINGS = 8


def home_meetings(desk, *, header) -> list:
    """Meetings awaiting their record first, then the next ones; each opens with 開く."""
    from handlers.desk.case_views import when

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
            accessory = _button("home.open", ids.ACTION_MEETING_OPEN, str(m.meeting_id))
        blocks.append(SectionBlock(text=plain_md(text), accessory=accessory))
    blocks.append(
        ActionsBlock(
            block_id="meetings",
            elements=[
                _button(
                    "meeting.button.new", ids.ACTION_MEETING_NEW, MeetingKind.saponet, "primary"
                ),
                _button("meeting.button.new_linknet", ids.ACTION_MEETING_NEW, MeetingKind.linknet),
            ],
        )
    )
    return blocks
