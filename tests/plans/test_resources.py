"""Participation resources (参加支援): `tsunagi resources load FILE` (idempotent, deactivates
what is missing, refuses a bad file with the line and the reason and changes nothing), the
coordinator's modal, and the figures that feed Link-net."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.cli.main import main
from handlers.common.services import CONTEXT_KEY
from handlers.plans.resources_listeners import resources_in_words
from models.plans.tables import Resource
from tests.conftest import TEST_KEY
from tests.support.meetings import COORD, audits, click_view, command, new_view, submit, text_of

GOOD = """\
# 辰野町の参加支援の資源（試験用）
[[resources]]
key = "salon-test"
name = "試験 ふれあいサロン"
kind = "salon"
description = "毎週水曜の午前"

[[resources]]
key = "work-test"
name = "試験 就労体験"
kind = "work"
"""


@pytest.fixture
def cli_env(monkeypatch, db_url, org):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    return org


def rows(engine) -> list[tuple[str, str, str, bool]]:
    with Session(engine) as s:
        return [
            (r.key, r.name, r.kind, r.active)
            for r in s.exec(select(Resource).order_by(Resource.key))
        ]


def shown(bot, view_id: str, text: str) -> dict:
    """The modal `view_id` once it shows `text` (it is redrawn after each click)."""
    return bot.slack.wait_for(
        lambda: [v for v in bot.slack.views_opened() if v["id"] == view_id and text in text_of(v)]
    )[0]


def load(tmp_path, text: str, name: str = "resources.toml") -> int:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return main(["resources", "load", str(path)])


def test_loading_twice_changes_nothing_and_missing_ones_are_deactivated(cli_env, tmp_path, capsys):
    assert load(tmp_path, GOOD) == 0
    assert "追加 2件" in capsys.readouterr().out
    first = rows(cli_env)
    assert first == [
        ("salon-test", "試験 ふれあいサロン", "salon", True),
        ("work-test", "試験 就労体験", "work", True),
    ]
    assert load(tmp_path, GOOD) == 0
    assert "追加 0件、変更 0件、使わなくした資源 0件" in capsys.readouterr().out
    assert rows(cli_env) == first
    only_salon = GOOD.split("\n\n[[resources]]")[0] + "\n"
    assert load(tmp_path, only_salon) == 0
    assert ("work-test", "試験 就労体験", "work", False) in rows(cli_env)  # kept, not deleted
    assert load(tmp_path, GOOD) == 0  # back in the file: active again
    assert all(active for *_, active in rows(cli_env))


BAD = {
    "syntax": ('[[resources]]\nkey = "a"\nname = "試験\n', 3, "TOML の書き方"),
    "unknown field": (
        '[[resources]]\nkey = "a"\nname = "試験"\nkind = "salon"\nphone = "0266-00-0000"\n',
        5,
        "phone は使えない項目",
    ),
    "bad kind": ('[[resources]]\nkey = "a"\nname = "試験"\nkind = "party"\n', 4, "kind は"),
    "duplicate key": (
        '[[resources]]\nkey = "a"\nname = "一"\nkind = "salon"\n\n'
        '[[resources]]\nkey = "a"\nname = "二"\nkind = "salon"\n',
        7,
        "2回使われています",
    ),
    "no name": ('[[resources]]\nkey = "a"\nkind = "salon"\n', 1, "name（名前）"),
    "bad key": ('[[resources]]\nkey = "サロン"\nname = "試験"\nkind = "salon"\n', 2, "key は"),
    "other table": ('[town]\nname = "x"\n', None, "[town] は使えません"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_is_refused_with_line_and_reason_and_nothing_changes(
    cli_env, tmp_path, capsys, case
):
    assert load(tmp_path, GOOD) == 0
    before = rows(cli_env)
    capsys.readouterr()
    text, line, reason = BAD[case]
    assert load(tmp_path, text, "bad.toml") == 2
    err = capsys.readouterr().err
    assert "何も変更しませんでした" in err and reason in err
    if line is not None:
        assert f"bad.toml:{line}行目：" in err
    assert rows(cli_env) == before


def test_a_missing_file_is_said_plainly(cli_env, tmp_path, capsys):
    assert main(["resources", "load", str(tmp_path / "none.toml")]) == 2
    assert "none.toml" in capsys.readouterr().err


# --- the coordinator's modal ---------------------------------------------------------------------


def test_the_coordinator_adds_and_deactivates_resources_in_slack(
    bot, tmp_path, monkeypatch, db_url
):
    view = command(bot, COORD, "resources")
    assert view["callback_id"] == "resources_list"
    add = new_view(bot, click_view(bot, COORD, view, "resource_add", "add"))
    assert submit(bot, COORD, add, {"name": "", "kind": None})["response_action"] == "errors"
    assert rows(bot.rt.engine) == []
    answer = submit(bot, COORD, add, {"name": "試験 子ども食堂", "kind": "ibasho"})
    assert answer == {} or answer.get("response_action") is None
    listing = bot.slack.wait_for(
        lambda: [
            v
            for v in bot.slack.views_opened()
            if v["id"] == view["id"] and "子ども食堂" in text_of(v)
        ]
    )[0]
    [(key, name, kind, active)] = rows(bot.rt.engine)
    assert (name, kind, active) == ("試験 子ども食堂", "ibasho", True) and key.startswith("slack-")
    with Session(bot.rt.engine) as s:
        rid = s.exec(select(Resource)).one().id
    click_view(bot, COORD, listing, "resource_toggle", str(rid))
    listing = bot.slack.wait_for(
        lambda: [
            v
            for v in bot.slack.views_opened()
            if v["id"] == view["id"] and "また使う" in text_of(v)
        ]
    )[0]
    assert rows(bot.rt.engine)[0][3] is False
    # a resource added in Slack is not deactivated by the file
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    click_view(bot, COORD, listing, "resource_toggle", str(rid))
    bot.slack.wait_for(
        lambda: [
            v
            for v in bot.slack.views_opened()
            if v["id"] == view["id"] and "使わなくする" in text_of(v)
        ]
    )
    assert rows(bot.rt.engine)[0][3] is True
    assert load(tmp_path, GOOD) == 0
    assert next(r for r in rows(bot.rt.engine) if r[1] == "試験 子ども食堂")[3] is True


def test_only_the_coordinator_keeps_the_resource_list(bot):
    answer = command(bot, "U0WIN1", "resources")
    assert "重層推進室" in text_of(answer["reply"])
    [refusal] = audits(bot.rt.engine, "manage_resources")
    assert refusal.allowed is False


def test_a_coordinator_whose_command_reached_the_worker_is_told_to_type_it_again(bot):
    """The roster's copy in the door did not know them as the coordinator yet (made so a
    moment ago): the worker cannot open the list (the trigger is gone), so it says how."""
    context = {CONTEXT_KEY: bot.rt.delivery.services}
    reply = resources_in_words({"user_id": COORD}, None, context, [])
    assert reply.text == "もう一度 `/tsunagi resources` と入力してください。画面が開きます。"
    assert audits(bot.rt.engine, "manage_resources") == []
