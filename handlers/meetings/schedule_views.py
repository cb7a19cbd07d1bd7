"""The coordinator's forms for a meeting: scheduling it, moving it, changing its attendees,
cancelling it, and recording a Link-net meeting's minutes. Their fields are read back with
handlers/common/forms.py under the same block names."""

from __future__ import annotations

from datetime import date, datetime

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    InputBlock,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import option, plain, section
from handlers.common.texts import t
from handlers.meetings.documents import meeting_when
from handlers.meetings.views import field, kind_name, modal
from models.base.clock import TOKYO
from models.meetings.tables import (
    LENGTH_CHOICES,
    PLACE_LIMIT,
    REMIND_BEFORE_CHOICES,
    Meeting,
    MeetingKind,
)
from models.org.tables import Agency

REPEAT_CHOICES = ("none", "same_week", "last_week")
KINDS = tuple(MeetingKind)
LINES_LIMIT = 2000  # topics, notes: one a line


def first_free_day(cal, now: datetime) -> date:
    """The first business day after today: the date the scheduling form starts with."""
    return cal.next_business_day(now.astimezone(TOKYO).date())


# --- fields --------------------------------------------------------------------------------------


def _attendee_inputs(kind, agencies, *, users, agencies_hint: str) -> list:
    """Who attends: by name, and (when there are agencies to offer) whole agencies."""
    blocks = [
        field(
            "members",
            UserMultiSelectElement(action_id=ids.VALUE, initial_users=users),
            optional=True,
            hint=t(f"meeting.hint.members_{kind}"),
        )
    ]
    if agencies:
        blocks.append(
            field(
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


def _lines(block: str, *, initial: list[str] | None = None) -> InputBlock:
    """Topics or notes, one a line (a form to correct starts with the lines recorded)."""
    return field(
        block,
        PlainTextInputElement(
            action_id=ids.VALUE,
            multiline=True,
            max_length=LINES_LIMIT,
            initial_value=None if initial is None else "\n".join(initial),
        ),
        optional=True,
        hint=t(f"meeting.hint.{block}"),
    )


def _when_fields(day: date, at: str) -> list[InputBlock]:
    return [
        field("date", DatePickerElement(action_id=ids.VALUE, initial_date=day.isoformat())),
        field(
            "time",
            TimePickerElement(action_id=ids.VALUE, initial_time=at, timezone="Asia/Tokyo"),
        ),
    ]


def _place(initial: str | None = None) -> InputBlock:
    return field(
        "place",
        PlainTextInputElement(action_id=ids.VALUE, max_length=PLACE_LIMIT, initial_value=initial),
        optional=True,
        hint=t("meeting.hint.place"),
    )


def _choice(block: str, choices, text, *, initial: int = 60, **kw) -> InputBlock:
    return field(
        block,
        StaticSelectElement(
            action_id=ids.VALUE,
            options=[option(text(n), str(n)) for n in choices],
            initial_option=option(text(initial), str(initial)),
        ),
        **kw,
    )


def _minutes_option(n: int) -> str:
    return t("meeting.length", n=n)


def _remind_option(n: int) -> str:
    return t("meeting.remind.none") if n == 0 else t("meeting.remind.before", n=n)


# --- scheduling ----------------------------------------------------------------------------------


def _kind_fields(kind: MeetingKind) -> list:
    """A Link-net meeting's topics and repetition; a case meeting's cases."""
    if kind is MeetingKind.linknet:
        return [
            _lines("topics"),
            field(
                "repeat",
                RadioButtonsElement(
                    action_id=ids.VALUE,
                    options=[option(t(f"meeting.repeat.{r}"), r) for r in REPEAT_CHOICES],
                    initial_option=option(t("meeting.repeat.none"), "none"),
                ),
                hint=t("meeting.hint.repeat"),
            ),
        ]
    return [
        field(
            "cases",
            ExternalDataMultiSelectElement(
                action_id=ids.ACTION_MEETING_CASES,
                min_query_length=0,
                placeholder=plain(t("meeting.hint.cases_placeholder")),
            ),
            optional=True,
            hint=t(f"meeting.hint.cases_{kind}"),
        )
    ]


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
        *_when_fields(first_day, "13:30"),
        _choice("length", LENGTH_CHOICES, _minutes_option),
        _place(),
        *_attendee_inputs(kind, agencies, users=[organiser], agencies_hint="meeting.hint.agencies"),
        *_kind_fields(kind),
        _choice("remind", REMIND_BEFORE_CHOICES, _remind_option, hint=t("meeting.hint.remind")),
    ]
    return modal(
        ids.VIEW_MEETING_SCHEDULE,
        "meeting.title.schedule",
        blocks,
        submit="meeting.submit.schedule",
        metadata=forms.metadata(kind=kind.value),
    )


# --- a scheduled meeting: move, attendees, cancel, the Link-net minutes -------------------------


def _form(
    meeting: Meeting, callback_id: str, name: str, blocks: list, *, close: str = "step.cancel"
) -> View:
    """A form about `meeting` (its version kept, so a change meanwhile is noticed)."""
    return modal(
        callback_id,
        f"meeting.title.{name}",
        blocks,
        submit=f"meeting.submit.{name}",
        close=close,
        metadata=forms.metadata(meeting_id=meeting.id, version=meeting.version),
    )


def _intro(code: str, meeting: Meeting):
    return section(t(code, kind=kind_name(meeting.kind), when=meeting_when(meeting)))


def reschedule_modal(meeting: Meeting) -> View:
    local = meeting.starts_at.astimezone(TOKYO)
    blocks = [
        _intro("meeting.reschedule_intro", meeting),
        *_when_fields(local.date(), f"{local:%H:%M}"),
        _place(meeting.place or ""),
    ]
    return _form(meeting, ids.VIEW_MEETING_RESCHEDULE, "reschedule", blocks)


def attendees_modal(meeting: Meeting, *, current: list[str], agencies: list[Agency]) -> View:
    """出席者を変える: the current attendees preselected; the same rules as when scheduling."""
    kind = MeetingKind(meeting.kind)
    blocks: list = [
        _intro("meeting.attendees_intro", meeting),
        *_attendee_inputs(
            kind, agencies, users=current or None, agencies_hint="meeting.hint.agencies_add"
        ),
    ]
    return _form(meeting, ids.VIEW_MEETING_ATTENDEES, "attendees", blocks)


def cancel_modal(meeting: Meeting, *, series_active: bool) -> View:
    blocks: list = [_intro("meeting.cancel_intro", meeting)]
    if series_active:
        blocks.append(
            field(
                "series",
                CheckboxesElement(
                    action_id=ids.VALUE, options=[option(t("meeting.stop_series"), "stop")]
                ),
                optional=True,
            )
        )
    return _form(meeting, ids.VIEW_MEETING_CANCEL, "cancel", blocks, close="meeting.back")


def linknet_record_modal(meeting: Meeting, *, topics: list[str], notes: list[str]) -> View:
    blocks = [
        section(t("meeting.record_intro")),
        _lines("topics", initial=topics),
        _lines("notes", initial=notes),
    ]
    return modal(
        ids.VIEW_LINKNET_MINUTES,
        "meeting.title.record",
        blocks,
        submit="meeting.submit.record",
        metadata=forms.metadata(meeting_id=meeting.id),
    )
