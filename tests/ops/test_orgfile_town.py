"""The business calendar's keys in [town] (office_hours, year_end_closing, closed_days) are
checked when the org file is loaded: a bad value is refused with its line and a Japanese
message naming the key, and nothing is loaded — not left to break every reminder later."""

from __future__ import annotations

import tomllib
from datetime import date, time

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from handlers.common.texts import t
from models.base.db import transaction
from models.org.orgfile import OrgFileError, load, parse
from models.org.tables import OrgSetting
from reminders.calendar import calendar_from_org
from reminders.deadlines import calendar_for
from tests.conftest import ORG_FILE
from tests.ops.test_orgfile import snapshot

TOWN_LINE = 3  # the line right after [town] in tests/data/org.toml

BAD = [
    ("office_hours", '["08:30"]', "office_hours_invalid"),
    ("office_hours", '"08:30-17:15"', "office_hours_invalid"),
    ("office_hours", '["8時半", "17:15"]', "office_hours_invalid"),
    ("office_hours", "[830, 1715]", "office_hours_invalid"),
    ("office_hours", '["08:30+09:00", "17:15"]', "office_hours_invalid"),  # no zone here
    ("office_hours", '["17:15", "08:30"]', "office_hours_order"),
    ("office_hours", "[08:30:00, 08:30:00]", "office_hours_order"),  # TOML times
    ("year_end_closing", '["12-29"]', "year_end_closing_invalid"),
    ("year_end_closing", '"12-29..01-03"', "year_end_closing_invalid"),
    ("year_end_closing", '["12-29", "13-01"]', "year_end_closing_invalid"),
    ("year_end_closing", "[1229, 103]", "year_end_closing_invalid"),
    ("year_end_closing", '["01-04", "12-29"]', "year_end_closing_too_long"),  # almost a year
    ("year_end_closing", '["12-01", "01-03"]', "year_end_closing_too_long"),  # 34 days
    ("closed_days", '"2026-08-14"', "closed_days_invalid"),
    ("closed_days", '["2026-08-32"]', "closed_days_invalid"),
    ("closed_days", "[2026-08-14T09:00:00]", "closed_days_invalid"),
    ("closed_days", "[20260814]", "closed_days_invalid"),
]

GOOD = [
    ("office_hours", '["08:00", "17:00"]'),
    ("office_hours", "[08:00:00, 17:00:00]"),
    ("year_end_closing", "[]"),
    ("year_end_closing", '["12-28", "01-04"]'),
    ("year_end_closing", '["12-01", "12-31"]'),  # 31 days: the longest allowed
    ("year_end_closing", '["02-29", "03-01"]'),
    ("closed_days", "[]"),
    ("closed_days", '[2026-08-14, "2026-08-13"]'),
]


def with_town(line: str) -> str:
    text = ORG_FILE.read_text(encoding="utf-8")
    assert text.splitlines()[TOWN_LINE - 2] == "[town]"
    return text.replace("[town]\n", f"[town]\n{line}\n", 1)


def toml_value(literal: str):
    return tomllib.loads(f"v = {literal}")["v"]


@pytest.mark.parametrize(("key", "literal", "code"), BAD)
def test_a_bad_calendar_value_is_refused_with_its_line_and_key(key, literal, code):
    with pytest.raises(OrgFileError) as info:
        parse(with_town(f"{key} = {literal}"))
    (problem,) = info.value.problems
    assert (problem.code, problem.line) == (code, TOWN_LINE)
    message = t(f"orgfile.{code}", **problem.params)
    assert f"[town] の {key}" in message and "指定された値" in message


@pytest.mark.parametrize(("key", "literal", "code"), BAD)
def test_the_calendar_would_refuse_the_same_value(key, literal, code):
    """The two checks agree: whatever org load refuses, the calendar could not be built from."""
    with pytest.raises((ValueError, TypeError)):
        calendar_from_org({key: toml_value(literal)})


@pytest.mark.parametrize(("key", "literal"), GOOD)
def test_good_calendar_values_pass_both_checks(key, literal):
    parse(with_town(f"{key} = {literal}"))
    calendar_from_org({key: toml_value(literal)})


@pytest.mark.parametrize(
    ("key", "literal", "code"),
    [BAD[2], BAD[5], BAD[9], BAD[11], BAD[14]],
)
def test_cli_refuses_the_file_names_the_key_and_loads_nothing(
    org, db_url, tmp_path, monkeypatch, capsys, key, literal, code
):
    before = snapshot(org)
    bad = tmp_path / "bad.toml"
    bad.write_text(with_town(f"{key} = {literal}"), encoding="utf-8")
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    assert main(["org", "load", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{TOWN_LINE}行目" in err and f"[town] の {key}" in err
    assert "何も変更していません" in err
    assert snapshot(org) == before


def test_good_values_are_loaded_and_used_by_the_calendar(org):
    text = with_town(
        'office_hours = [08:00:00, "17:00"]\n'
        'year_end_closing = ["12-28", "01-04"]\n'
        'closed_days = [2026-08-14, "2026-08-13"]'
    )
    with transaction(org) as session:
        load(session, parse(text))
    with Session(org) as session:
        cal = calendar_for(session)
        stored = session.exec(select(OrgSetting).where(OrgSetting.key == "closed_days")).one()
    assert (cal.opens, cal.closes) == (time(8, 0), time(17, 0))
    assert (12, 28) in cal.closing_days and (1, 4) in cal.closing_days
    # A date written as a string is kept too (it used to be dropped without a word).
    assert sorted(stored.value) == ["2026-08-13", "2026-08-14"]
    assert not cal.is_business_day(date(2026, 8, 13))
