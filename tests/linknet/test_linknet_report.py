"""The yearly report (`tsunagi report fy`) as the clerk sends it: CSV and xlsx read back cell by
cell (openpyxl), for a year with fewer than ten meetings and for a year before the system
started; 令和 in the title and the file name; the publication (k = 10 for people) and the
official return to the prefecture (--official: exact, 0600, an audit entry naming who ran it).
Meeting counts are exact in both."""

from __future__ import annotations

import csv
import io
import os
import stat

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.cli.main import main
from models.base.db import transaction
from models.linknet.ledger import LinknetPublication
from models.meetings.tables import Meeting
from models.ops.tables import AuditEntry
from tests.linknet.test_linknet_e2e import AT, cli_env  # noqa: F401  (fixture)
from tests.linknet.test_linknet_figures import jst, member, october

TITLE = "辰野町　重層的支援体制整備事業　令和8年度（2026年度）実績（4月〜10月分）"
HEADER = ["項目", "区分", "令和8年度（2026年10月）", "令和7年度（2025年度）"]
DASH = "—"
MEETINGS = [
    ["会議の開催・種類別（延べ件数）", "計", 3, DASH],
    ["", "リンクネット会議", 1, DASH],
    ["", "さぽネット会議（支援会議）", 2, DASH],
    ["", "たつのまるごと会議（重層的支援会議）", 0, DASH],
]


def three_meetings(engine) -> None:
    """One Link-net and two Sapo-net meetings in October 2026 (one cancelled: not counted)."""
    with transaction(engine) as session:
        coord = member(session, "U0COORD")
        for day, kind, state in [
            (5, "saponet", "held"),
            (12, "saponet", "scheduled"),  # its day went by: held
            (19, "marugoto", "cancelled"),
            (26, "linknet", "held"),
        ]:
            at = jst(2026, 10, day, 13, 30)
            session.add(
                Meeting(kind=kind, starts_at=at, state=state, created_by_id=coord.id, created_at=at)
            )


def csv_rows(path) -> list[list[str | int]]:
    """The CSV's rows, with the cells a spreadsheet would read as numbers as ints."""
    text = path.read_text(encoding="utf-8-sig")
    return [[int(c) if c.isdigit() else c for c in row] for row in csv.reader(io.StringIO(text))]


def xlsx_rows(path) -> list[list[str | int]]:
    """The sheet's rows as stored, trailing empty cells dropped (a blank row is [])."""
    sheet = load_workbook(path).active
    out = []
    for row in sheet.iter_rows():
        values = [c.value for c in row]
        while values and values[-1] is None:
            values.pop()
        out.append(["" if v is None else v for v in values])
    return out


def table(rows) -> dict[str, list]:
    """The table's rows by their item (a category row under its item: "item/category")."""
    out, item = {}, ""
    for row in rows[2:]:
        if len(row) != 4:
            break
        item = row[0] or item
        out[item if row[0] else f"{item}/{row[1]}"] = row[1:]
    return out


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.usefixtures("cli_env")
def test_publication_csv_and_xlsx_hold_the_same_cells(org, tmp_path, capsys):
    october(org, n=13)
    three_meetings(org)
    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    assert main(["report", "fy", "2026", "--format", "csv", "--output", str(out_csv), *AT]) == 0
    assert main(["report", "fy", "2026", "--format", "xlsx", "--output", str(out_xlsx), *AT]) == 0
    assert mode(out_csv) == 0o600 and mode(out_xlsx) == 0o600
    from_csv, from_xlsx = csv_rows(out_csv), xlsx_rows(out_xlsx)
    # Cell by cell the same; numbers stored as numbers in the workbook.
    assert from_csv == from_xlsx
    assert from_xlsx[0] == [TITLE]
    assert from_xlsx[1] == HEADER
    body = table(from_xlsx)
    # Meetings are not people: exact, even below k — the year before the system: "—", not 0.
    assert [body[k] for k in body if k.startswith("会議の開催")] == [r[1:] for r in MEETINGS]
    assert body["新規つなぎメモ・分野別（実人数）"] == ["計", 13, DASH]
    assert body["新規つなぎメモ・緊急度別（実人数）/通常"] == ["通常", 13, DASH]
    # 13 received − 12 taken = 1 still waiting (a protected month-end count): hidden.
    assert body["窓口の引き受け・期限内か（実人数）"] == ["計", "秘匿", DASH]
    assert body["支援プランの作成（延べ件数）"] == ["計", 0, DASH]
    # Every heading says how it counts.
    items = [k for k in body if "/" not in k]
    assert items and all(k.endswith(("（実人数）", "（延べ件数）")) for k in items)
    # Small counts of people are never printed: every other number is 0 or at least 10.
    for key, cells in body.items():
        if not key.startswith("会議の開催"):
            assert all(not isinstance(c, int) or c == 0 or c >= 10 for c in cells), key
    notes = [r[0] for r in from_xlsx[len(body) + 3 :]]
    assert notes[0] == "集計期間：2026年4月〜2026年10月（比較：令和7年度（2025年度））"
    assert notes[1].startswith("公表用：人数と件数は、10件未満を「10未満」")
    assert "会議の開催回数は人の数ではないため、正確な数です。" in notes[1]
    assert notes[2].startswith("実人数：") and "延べ件数：" in notes[2]
    assert (
        notes[3]
        == "「—」は、tsunagiの記録が始まる前（2026年10月より前）で、数がないことを示します。"
    )
    assert notes[4] == "作成：tsunagi（2026-11-27 10:00）"
    # The workbook: the title and header row frozen, numbers right-aligned, columns wide enough.
    sheet = load_workbook(out_xlsx).active
    assert sheet.freeze_panes == "A3"
    assert sheet["C3"].data_type == "n" and sheet["D3"].value == DASH
    assert sheet.column_dimensions["A"].width >= 30
    assert all(sheet.column_dimensions[c].width >= 10 for c in "BCD")
    with transaction(org) as session:
        keys = [p.key for p in session.exec(select(LinknetPublication))]
    assert keys == ["report:2026:2026-10"]  # both files: one publication in the ledger


@pytest.mark.usefixtures("cli_env")
def test_a_year_before_the_system_is_dashes_not_zeros(org, tmp_path, capsys):
    october(org, n=13)
    three_meetings(org)
    out = tmp_path / "r7.xlsx"
    assert main(["report", "fy", "2025", "--format", "xlsx", "--output", str(out), *AT]) == 0
    rows = xlsx_rows(out)
    assert rows[0] == ["辰野町　重層的支援体制整備事業　令和7年度（2025年度）実績"]  # year over
    assert rows[1] == ["項目", "区分", "令和7年度（2025年度）", "令和6年度（2024年度）"]
    body = table(rows)
    assert body and all(cells[-2:] == [DASH, DASH] for cells in body.values())
    assert not any(0 in cells for cells in body.values())
    out_csv = tmp_path / "r7.csv"
    assert main(["report", "fy", "2025", "--output", str(out_csv), *AT]) == 0
    assert csv_rows(out_csv) == rows


@pytest.mark.usefixtures("cli_env")
def test_the_default_file_name_says_reiwa_and_the_months(org, tmp_path, monkeypatch, capsys):
    october(org, n=2)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "fy", "2026", "--format", "xlsx", *AT]) == 0
    name = "実績報告_令和8年度（2026年度）_4月〜10月分.xlsx"
    assert (tmp_path / name).is_file()
    assert capsys.readouterr().out.strip() == (
        f"令和8年度（2026年度）の報告表を「{name}」に書き出しました。"
    )
    assert main(["report", "fy", "2025", "--format", "xlsx", *AT]) == 0
    assert (tmp_path / "実績報告_令和7年度（2025年度）.xlsx").is_file()


@pytest.mark.usefixtures("cli_env")
def test_the_official_return_is_exact_private_and_audited(org, tmp_path, monkeypatch, capsys):
    october(org, n=4)
    three_meetings(org)
    monkeypatch.chdir(tmp_path)
    args = ["report", "fy", "2026", "--format", "xlsx", "--official", *AT]
    assert main(args) == 2
    assert "--as" in capsys.readouterr().err
    assert main([*args, "--as", "U0WIN1"]) == 2  # a window member may not
    assert "--official は使えません" in capsys.readouterr().err
    assert main([*args, "--as", "U0COORD"]) == 0
    out = tmp_path / "実績報告_令和8年度（2026年度）_4月〜10月分_県報告用.xlsx"
    assert mode(out) == 0o600
    rows = xlsx_rows(out)
    assert rows[0] == [TITLE] and rows[1] == HEADER
    body = table(rows)
    assert body["新規つなぎメモ・分野別（実人数）"] == ["計", 4, DASH]  # exact, below k
    assert body["窓口の引き受け・期限内か（実人数）"] == ["計", 4, DASH]
    assert [body[k] for k in body if k.startswith("会議の開催")] == [r[1:] for r in MEETINGS]
    notes = [r[0] for r in rows[len(body) + 3 :]]
    assert notes[1] == (
        "県への報告用（開示制御なしの正確な数）：試験 調整子さん（U0COORD）が"
        "2026-11-27 10:00に出力しました。少ない数から個人が特定されるおそれがあります。"
        "報告先のほかには出さないでください。"
    )
    assert load_workbook(out).active["A" + str(len(body) + 5)].font.b  # the warning stands out
    with transaction(org) as session:
        assert session.exec(select(LinknetPublication)).all() == []  # not in the ledger
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "linknet.report_official")
        ).all()
    assert [(e.actor_slack_id, e.allowed, e.detail) for e in entries] == [
        ("U0WIN1", False, "fy2026 xlsx"),
        ("U0COORD", True, "fy2026 xlsx"),
    ]
    assert entries[1].actor_member_id is not None
