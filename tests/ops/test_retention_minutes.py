"""Erasing a case also takes its outcome out of the stored minutes of its meetings: the minutes
are kept blank until read, then rendered again from the outcomes as they are now — the other
cases' outcomes as recorded, the erased case's marked as erased."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.cli.main import main
from handlers.common.texts import t
from models.base.db import transaction
from models.cases.lifecycle import CaseState
from models.cases.tables import Case
from models.meetings.minutes import minutes_of
from models.meetings.tables import Meeting, MeetingMinutes
from models.ops.audit import verify
from models.org.tables import Agency
from models.plans import resources
from tests.conftest import START, TEST_KEY
from tests.plans.test_plans_e2e import outcome_form, outcome_values, schedule
from tests.support.desk import bring_to, give_consent, member, new_case
from tests.support.meetings import (
    COORD,
    audits,
    click_view,
    command,
    jst,
    new_view,
    submit,
    text_of,
)

ERASED = {
    "direction": "消える支援方針：毎朝の声かけ",
    "goals": "消える目標その一\n消える目標その二",
    "task_what_0": "消える役割：毎朝の訪問",
    "task_what_1": "消える役割：通院の付き添い",
}
KEPT = {
    "direction": "残る支援方針：サロンへの参加",
    "goals": "残る目標：週1回サロンに通う",
    "task_what_0": "残る役割：送迎の手配",
    "task_what_1": "残る役割：参加の振り返り",
}


@pytest.fixture
def held(bot, clock):
    """R8-0001 (to be erased) and R8-0002 at one たつのまるごと会議, both outcomes recorded."""
    engine = bot.rt.engine
    ids = [new_case(engine, START) for _ in range(2)]
    for case_id in ids:
        bring_to(engine, case_id, CaseState.marugoto, START)
    with transaction(engine) as s:
        coord = member(s, COORD)
        for case_id in ids:
            give_consent(s, s.get(Case, case_id), coord, START, ("houkatsu", "minsei"))
        resources.apply(
            s, [{"key": "salon-test", "name": "試験サロン", "kind": "salon", "description": None}]
        )
        world = {
            "agency": {a.key: a.id for a in s.exec(select(Agency))},
            "salon": s.exec(select(resources.Resource)).one().id,
        }
        numbers = [s.get(Case, case_id).number for case_id in ids]
    bot.deliver()
    meeting_id = schedule(bot, "まるごと", cases=ids)
    clock.at = jst("2026-12-07 11:00")
    for case_id, texts in zip(ids, (ERASED, KEPT), strict=True):
        answer = submit(
            bot, COORD, outcome_form(bot, meeting_id, case_id), outcome_values(world, **texts)
        )
        assert answer["response_action"] == "update", answer
    bot.deliver()
    return {"meeting": meeting_id, "ids": ids, "numbers": numbers}


def personal_lines(texts: dict) -> list[str]:
    return [line for value in texts.values() for line in value.splitlines()]


def stored(engine, meeting_id: int) -> MeetingMinutes:
    with Session(engine) as s:
        return minutes_of(s, meeting_id)


def raw_minutes(engine, meeting_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT text FROM meeting_minutes WHERE meeting_id = :m"), {"m": meeting_id}
        ).scalar_one()


def erase_cli(monkeypatch, capsys, db_url, number: str) -> int:
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    code = main(["erase", number, "--as", COORD, "--reason", "request", "--yes", "--force"])
    capsys.readouterr()
    return code


def view_minutes(bot, meeting_id: int) -> str:
    view = command(bot, COORD, f"meeting {meeting_id}")
    return text_of(new_view(bot, click_view(bot, COORD, view, "meeting_minutes", str(meeting_id))))


def test_erasing_a_case_blanks_the_minutes_that_repeat_it_and_readers_render_them_again(
    bot, held, monkeypatch, capsys, db_url
):
    engine = bot.rt.engine
    meeting_id = held["meeting"]
    erased_number, kept_number = held["numbers"]
    before = stored(engine, meeting_id)
    for line in personal_lines(ERASED) + personal_lines(KEPT):
        assert line in before.text
    old_cipher = raw_minutes(engine, meeting_id)
    # A meeting without an outcome of the case keeps its minutes as they are.
    with transaction(engine) as s:
        other = Meeting(
            kind="linknet",
            starts_at=START,
            created_by_id=member(s, COORD).id,
            created_at=START,
            state="held",
        )
        s.add(other)
        s.flush()
        s.add(
            MeetingMinutes(
                meeting_id=other.id,
                text="# リンクネット会議 議事録\n",
                recorded_by_id=member(s, COORD).id,
                recorded_at=START,
            )
        )
        other_id = other.id

    assert erase_cli(monkeypatch, capsys, db_url, erased_number) == 0

    blanked = stored(engine, meeting_id)
    assert blanked.text == "" and blanked.version == before.version + 1  # decrypted DB value
    assert (blanked.recorded_by_id, blanked.shared_version) == (
        before.recorded_by_id,
        before.shared_version,
    )
    untouched = stored(engine, other_id)
    assert (untouched.text, untouched.version) == ("# リンクネット会議 議事録\n", 1)
    if db_url.startswith("sqlite"):  # no copy in free pages or the WAL (erase checkpoints)
        path = Path(db_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        files = b"".join(p.read_bytes() for p in (path, wal) if p.exists())
        assert old_cipher.encode() not in files

    # The minutes modal renders them again: the other case as recorded, the erased one marked.
    shown = view_minutes(bot, meeting_id)
    for line in personal_lines(ERASED):
        assert line not in shown
    for line in personal_lines(KEPT):
        assert line in shown
    assert f"## {erased_number}" in shown and f"## {kept_number}" in shown
    assert t("outcome.erased") in shown
    again = stored(engine, meeting_id)
    assert again.version == blanked.version  # rendered again, not recorded anew
    assert again.text and all(line not in again.text for line in personal_lines(ERASED))
    assert t("outcome.erased") in again.text
    views = [a for a in audits(engine) if (a.detail or "").endswith(f"minutes:v{again.version}")]
    assert len(views) == 1 and views[0].allowed

    # The export gives the same text.
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    assert main(["minutes", "export", str(meeting_id)]) == 0
    out = capsys.readouterr().out
    assert out == again.text
    assert len(audits(engine, "export_minutes")) == 1
    (erasure,) = audits(engine, "case.erase")
    assert erasure.case_id == held["ids"][0] and erasure.detail == "request:request"
    assert verify(engine).ok


def test_the_export_alone_renders_blanked_minutes_again(bot, held, monkeypatch, capsys, db_url):
    engine = bot.rt.engine
    erased_number = held["numbers"][0]
    assert erase_cli(monkeypatch, capsys, db_url, erased_number) == 0
    assert stored(engine, held["meeting"]).text == ""
    assert main(["minutes", "export", str(held["meeting"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# たつのまるごと会議 議事録")
    assert f"## {erased_number}" in out and t("outcome.erased") in out
    assert KEPT["direction"] in out and ERASED["direction"] not in out
    assert stored(engine, held["meeting"]).text == out


def test_an_outcome_recorded_after_the_erasure_renders_the_erased_case_as_erased(
    bot, held, monkeypatch, capsys, db_url
):
    """Minutes rendered again by a later outcome (a plan's listeners) mark the erased case too."""
    from handlers.meetings.papers import minutes_text
    from models.meetings.minutes import store_minutes

    engine = bot.rt.engine
    assert erase_cli(monkeypatch, capsys, db_url, held["numbers"][0]) == 0
    with transaction(engine) as s:
        meeting = s.get(Meeting, held["meeting"])
        coord = member(s, COORD)
        store_minutes(
            s,
            meeting,
            text=minutes_text(s, meeting, by=coord),
            by=coord,
            at=jst("2026-12-08 09:00"),
        )
    text_ = stored(engine, held["meeting"]).text
    assert t("outcome.erased") in text_ and KEPT["direction"] in text_
    assert all(line not in text_ for line in personal_lines(ERASED))
