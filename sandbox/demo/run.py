"""Play the demo week and write the page: `tsunagi demo` and tests/test_demo.py call run_demo.

After the week, before anything is written, the run checks the privacy rule the way the intake
privacy test does: none of the synthetic personal strings appears in anything the bot sent to
Slack (messages, updates, ephemerals, uploads, Home tabs, command answers); they appear only in
modals opened for people entitled to the case. A leak stops the run: no page is written.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from handlers.common.texts import t
from models.cases.access import Action, decide
from models.cases.records import case_by_number
from models.org.roster import member_by_slack_id
from sandbox.demo import story
from sandbox.demo.record import Entry, Kind, Recording
from sandbox.demo.render import render_page
from sandbox.demo.stage import Stage

SENT_METHODS = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "chat.scheduleMessage",
    "views.publish",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)
BOT_VIEWS = (Kind.modal, Kind.modal_update)


class PrivacyLeak(AssertionError):
    """A synthetic personal string reached a place it must never be."""

    def __init__(self, places: list[str]) -> None:
        super().__init__("; ".join(places))
        self.places = places


@dataclass
class DemoResult:
    recording: Recording
    cast: story.Cast
    html: str
    seconds: float


def _groups_in(text: str) -> list[str]:
    return [group for group, values in story.PERSONAL.items() if any(v in text for v in values)]


def find_leaks(
    calls: Iterable, entries: Iterable[Entry], entitled: Callable[[str | None, str], bool]
) -> list[str]:
    """Where a personal string is where it must not be: in anything sent to Slack (calls to
    SENT_METHODS), in an answer to a command, or in a modal the bot opened for someone not
    entitled to that person's case. A form as the person typed it is their own input."""
    places: list[str] = []
    for call in calls:
        if call.method in SENT_METHODS:
            dumped = json.dumps(call.args, ensure_ascii=False, default=str)
            if _groups_in(dumped):
                target = call.args.get("channel") or call.args.get("user_id") or ""
                places.append(f"{call.method} {target}".strip())
    for entry in entries:
        dumped = json.dumps(
            {"text": entry.text, "blocks": entry.blocks, "view": entry.view}, ensure_ascii=False
        )
        found = _groups_in(dumped)
        if not found or entry.kind is Kind.submitted:
            continue
        if entry.kind not in BOT_VIEWS:
            places.append(f"{entry.kind.value} {entry.user or entry.conversation}")
            continue
        places += [f"modal {entry.user} ({g})" for g in found if not entitled(entry.user, g)]
    return places


def check_privacy(stage: Stage, recording: Recording, cast: story.Cast) -> None:
    """Raise PrivacyLeak listing every place a personal string was found where it must not be."""
    numbers = {"household": cast.household, "neighbour": cast.neighbour}
    with Session(stage.rt.engine) as session:

        def entitled(user: str | None, group: str) -> bool:
            member = member_by_slack_id(session, user or "")
            number = numbers.get(group)
            case = case_by_number(session, number) if number else None
            return case is not None and bool(decide(session, member, Action.view_case_detail, case))

        places = find_leaks(stage.slack.calls, recording.entries, entitled)
    if places:
        raise PrivacyLeak(places)


def run_demo(*, days: int = len(story.DAYS), workdir: Path | None = None) -> DemoResult:
    """Play the week (the first `days` office days) and return the page."""
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="tsunagi-demo-", dir=workdir) as tmp,
        Stage(Path(tmp), start=story.PROLOGUE) as stage,
    ):
        cast = story.play(stage, days=days)
        recording = stage.recording(title=t("demo.page.title"), period=story.period(days))
        check_privacy(stage, recording, cast)
    html = render_page(recording)
    return DemoResult(recording, cast, html, time.monotonic() - started)
