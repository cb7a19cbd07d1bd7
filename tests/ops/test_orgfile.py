"""The organisation file: loaded idempotently; members who leave are deactivated; bad files are
refused with their line and reason, changing nothing."""

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from models.base.db import transaction
from models.org.orgfile import OrgFileError, load, parse
from models.org.tables import Agency, Member, OrgSetting
from tests.conftest import ORG_FILE

EXAMPLE = Path(__file__).parents[2] / "tatsuno.example.toml"


def snapshot(engine):
    with Session(engine) as s:
        agencies = [
            (a.key, a.name, a.kind, a.domain, a.channel, a.active) for a in s.exec(select(Agency))
        ]
        members = [
            (m.slack_id, m.agency_id, tuple(m.roles), m.active) for m in s.exec(select(Member))
        ]
        settings = {r.key: r.value for r in s.exec(select(OrgSetting))}
    return sorted(agencies), sorted(members), settings


def test_the_shipped_example_is_valid_and_has_tatsunos_windows():
    data = parse(EXAMPLE.read_text(encoding="utf-8"))
    windows = {a["domain"] for a in data["agencies"] if a["kind"] == "window"}
    assert windows == {"elderly", "disability", "children", "poverty"}
    assert any("きらりあ" in a["name"] for a in data["agencies"])
    assert len(data["town"]["districts"]) == 17


def test_loading_twice_changes_nothing(org):
    first = snapshot(org)
    with transaction(org) as s:
        load(s, parse(ORG_FILE.read_text(encoding="utf-8")))
    assert snapshot(org) == first


def test_a_member_missing_from_a_newer_file_is_deactivated_not_deleted(org):
    text = ORG_FILE.read_text(encoding="utf-8")
    start = text.index('[[members]]\nslack_id = "U0DEPT1"')
    end = text.index("[[members]]", start + 5)
    with transaction(org) as s:
        result = load(s, parse(text[:start] + text[end:]))
    assert result.deactivated_members == 1
    with Session(org) as s:
        dept = s.exec(select(Member).where(Member.slack_id == "U0DEPT1")).one()
        assert dept.active is False and dept.name == "試験 税務"
    with transaction(org) as s:  # and comes back when listed again
        load(s, parse(text))
    with Session(org) as s:
        assert s.exec(select(Member).where(Member.slack_id == "U0DEPT1")).one().active


BAD = [
    ('[town]\nname = "辰野町"\n[channels\n', 3, "TOML"),
    ('[town]\nname = "辰野町"\n[channels]\ncoordinator = "nope"\n', 4, "チャンネルID"),
    (
        '[town]\nname = "町"\n[channels]\ncoordinator = "C0C"\n[[agencies]]\nkey = "s"\n'
        'name = "推進"\nkind = "coordinator"\n[[agencies]]\nkey = "w"\nname = "窓口"\n'
        'kind = "window"\ndomain = "space"\n',
        13,
        "domain",
    ),
    (
        '[town]\nname = "町"\n[channels]\ncoordinator = "C0C"\n[[agencies]]\nkey = "s"\n'
        'name = "推進"\nkind = "coordinator"\n[[members]]\nslack_id = "U0A"\nname = "a"\n'
        'agency = "s"\nroles = ["wizard"]\n',
        13,
        "wizard",
    ),
    (
        '[town]\nname = "町"\n[channels]\ncoordinator = "C0C"\n[[agencies]]\nkey = "s"\n'
        'name = "推進"\nkind = "coordinator"\n[[members]]\nslack_id = "U0A"\nname = "a"\n'
        'agency = "nowhere"\nroles = ["window"]\n',
        12,
        "nowhere",
    ),
]


@pytest.mark.parametrize(("text", "line", "word"), BAD)
def test_bad_files_are_refused_with_line_and_reason(text, line, word):
    with pytest.raises(OrgFileError) as info:
        parse(text)
    assert line in [p.line for p in info.value.problems]


@pytest.mark.parametrize(("text", "line", "word"), BAD)
def test_cli_refuses_a_bad_file_and_changes_nothing(
    org, db_url, tmp_path, monkeypatch, capsys, text, line, word
):
    before = snapshot(org)
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    assert main(["org", "load", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{line}行目" in err and word in err and "何も変更していません" in err
    assert snapshot(org) == before


def test_cli_loads_the_example(engine, db_url, monkeypatch, capsys):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    assert main(["org", "load", str(EXAMPLE)]) == 0
    assert "を読み込みました" in capsys.readouterr().out
    with Session(engine) as s:
        assert len(list(s.exec(select(Agency)))) == 20  # with 情報政策係 (the IT admin)
