"""The org file's names (models/org/schema.py): an unknown section or key is refused with the
file, the line, the unknown name and the nearest valid one; nothing changes and the previous org
stays in force. A bad value in [reminders] is shown in words (it once ended in a KeyError)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from models.org.orgfile import OrgFileError, parse
from models.org.schema import MemberEntry
from models.org.tables import Member
from tests.conftest import ORG_FILE
from tests.ops.test_orgfile import snapshot

GOOD = ORG_FILE.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# (what is changed in the test org file, the text the person sees, the line that holds it)
MISSPELT = [
    pytest.param(
        ("confidentiality_ack = 2026-07-01", "confidentialty_ack = 2026-07-01"),
        "`confidentialty_ack`という項目はありません。`confidentiality_ack`のことですか？",
        "confidentialty_ack",
        id="member key",
    ),
    pytest.param(
        ('channel = "C0HOUKATSU"', 'chanel = "C0HOUKATSU"'),
        "`chanel`という項目はありません。`channel`のことですか？",
        "chanel",
        id="agency key",
    ),
    pytest.param(
        ("[channels]", "[chanels]"),
        "`[chanels]`という節はありません。`[channels]`のことですか？",
        "[chanels]",
        id="section",
    ),
]


def load_via_cli(tmp_path, monkeypatch, capsys, db_url, text: str) -> tuple[int, str, str]:
    path = tmp_path / "町の組織.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    code = main(["org", "load", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(("change", "message", "needle"), MISSPELT)
def test_a_misspelt_name_is_refused_with_file_line_and_nearest_name(
    org, db_url, tmp_path, monkeypatch, capsys, change, message, needle
):
    text = GOOD.replace(*change, 1)
    before = snapshot(org)
    code, out, err = load_via_cli(tmp_path, monkeypatch, capsys, db_url, text)
    assert code == 2 and out == ""
    assert f"町の組織.toml:{line_of(text, needle)}行目：{message}" in err
    assert "何も変更していません" in err and "Traceback" not in err
    assert snapshot(org) == before


def test_a_misspelt_acknowledgement_keeps_the_previous_one_in_force(
    org, db_url, tmp_path, monkeypatch, capsys
):
    """Once, `confidentialty_ack` was ignored and cleared the date, barring her from さぽネット."""
    text = GOOD.replace("confidentiality_ack", "confidentialty_ack")
    code, _, _ = load_via_cli(tmp_path, monkeypatch, capsys, db_url, text)
    assert code == 2
    with Session(org) as s:
        member = s.exec(select(Member).where(Member.slack_id == "U0COORD")).one()
        assert member.confidentiality_ack == date(2026, 7, 1)


def test_an_unknown_name_without_a_near_one_lists_the_valid_names():
    with pytest.raises(OrgFileError) as err:
        parse(GOOD + "\n[reminders]\nwhenever = true\n")
    [problem] = err.value.problems
    assert problem.code == "key_unknown_list" and problem.params["name"] == "whenever"
    assert "ack_urgent" in problem.params["valid"]


def test_a_misspelt_section_at_the_top_of_the_file_is_found_too():
    with pytest.raises(OrgFileError) as err:
        parse("reminder = 1\n" + GOOD)
    [problem] = err.value.problems
    assert (problem.line, problem.code, problem.params["nearest"]) == (
        1,
        "section_unknown",
        "reminders",
    )


def test_every_problem_of_the_file_is_listed_at_once():
    text = GOOD.replace("confidentiality_ack", "confidentialty_ack", 1).replace(
        'coordinator = "C0COORD"', 'coordinator = "nope"', 1
    )
    with pytest.raises(OrgFileError) as err:
        parse(text)
    assert {p.code for p in err.value.problems} == {"key_unknown", "channel_id_invalid"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('channels = "C0COORD"\n', "table_expected"),
        ('[[channels]]\ncoordinator = "C0COORD"\n', "table_expected"),
        ('[members]\nslack_id = "U0A"\n', "array_expected"),
    ],
)
def test_a_section_of_the_wrong_kind_is_refused_in_words(text, code):
    body = GOOD.replace('[channels]\ncoordinator = "C0COORD"', "")
    if code == "array_expected":
        body = body.split("[[members]]")[0]
    with pytest.raises(OrgFileError) as err:
        parse(text + body)
    assert code in {p.code for p in err.value.problems}


@pytest.mark.parametrize(
    ("section", "shown"),
    [
        ('ack_normal = "2 days"', '"1h"（開庁時間で1時間）'),
        ("escalate = 1", "true か false"),
        ('ack_sometimes = "1d"', "`ack_sometimes`"),
    ],
)
def test_a_bad_reminders_value_is_shown_in_words_not_a_key_error(
    org, db_url, tmp_path, monkeypatch, capsys, section, shown
):
    text = GOOD + "\n[reminders]\n" + section + "\n"
    before = snapshot(org)
    code, _, err = load_via_cli(tmp_path, monkeypatch, capsys, db_url, text)
    assert code == 2 and shown in err and f"{line_of(text, section)}行目" in err
    assert "Traceback" not in err and "KeyError" not in err and "orgfile." not in err
    assert snapshot(org) == before


def test_members_from_other_organisations_have_their_keys_in_the_schema():
    assert {"team", "enterprise"} <= set(MemberEntry.model_fields)
