"""Link-net end to end against the strict Slack stand-in: the monthly post (blocks, the chart
uploaded with files_upload_v2 and its alt text), the coordinator's preview, the CLI (post,
idempotent, --again) and the yearly report's refusals (its files: test_linknet_report.py)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.cli.main import main
from handlers.linknet.views import post_message, trend_chart
from models.base.db import transaction
from models.linknet import figures
from models.linknet.ledger import LinknetPublication
from models.linknet.periods import Month
from models.linknet.posting import post
from models.ops.tables import AuditEntry
from models.org.tables import OrgSetting
from models.queues.tables import Notice
from reminders.jobs import JobContext
from reminders.linknet_job import due_month, post_linknet_figures
from tests.conftest import START, TEST_KEY
from tests.intake.test_intake_e2e import PERSONAL
from tests.linknet.test_linknet_figures import OCTOBER, jst, memo, october, one_day

LINKNET = "C0LINKNET"
PNG = b"\x89PNG\r\n\x1a\n"


def all_text(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def run_job(bot, now):
    post_linknet_figures(JobContext(engine=bot.rt.engine, now=now, kick_delivery=lambda: None))
    bot.deliver()


# --- the monthly post ---------------------------------------------------------------------------


def test_the_monthly_job_posts_the_figures_and_the_chart(bot):
    october(bot.rt.engine, taken=14)
    run_job(bot, START)
    [message] = bot.slack.messages(LINKNET)
    text = all_text(message["blocks"])
    assert "2026年10月" in message["text"]
    assert "新規つなぎメモ（分野別）" in text and "計：14件（前月：—・年度累計：14件）" in text
    assert "• 期限内：14件" in text and "引き受けまでの時間（中央値）：約3時間" in text
    assert "期限内の割合：100%（前月：—・年度累計：100%）" in text
    [upload] = bot.slack.uploads(LINKNET)
    assert upload["content"].startswith(PNG) and len(upload["content"]) > 10_000
    assert upload["filename"] == "linknet-2026-10.png"
    # The months before the first memo are not drawn (they are not 0: nothing was recorded).
    assert upload["alt_txt"].startswith("折れ線グラフです。2026年10月から2026年10月まで")
    # The message says what the chart draws: one month so far, not 「直近12か月」.
    assert "新規つなぎメモの推移（分野別・2026年10月）のグラフを投稿します。" in text
    assert "合計は14です。" in upload["alt_txt"]
    # Nothing personal, no receipt number, no day.
    everything = text + message["text"] + upload["alt_txt"]
    for value in PERSONAL:
        assert value not in everything
    assert "R8-" not in everything and "10月1日" not in everything


def test_a_count_that_would_follow_from_another_table_is_hidden(bot):
    """14 memos, 12 taken: "引き受け待ち 2" is below k — and so are the 12 acknowledgements hidden,
    or 14 − 12 would give the 2 away through the identity waiting = new − acknowledged."""
    october(bot.rt.engine, taken=12)
    run_job(bot, START)
    text = all_text(bot.slack.messages(LINKNET)[0]["blocks"])
    assert "• 引き受け待ち：10未満（前月末：—）" in text
    assert "*窓口の引き受け（期限内に引き受けたか）*\\n計：秘匿" in text
    assert "12件" not in text


def test_the_chart_title_names_the_months_drawn(bot):
    """A system two months old draws two months and says so (「直近12か月」 was untrue)."""
    october(bot.rt.engine)
    with transaction(bot.rt.engine) as session:
        memo(session, jst(2026, 11, 4, 10))
    with transaction(bot.rt.engine) as session:
        pid = post(session, month=Month(2026, 11), now=jst(2026, 12, 1, 9), deadline=one_day)
        pub = figures.published(session, pid.publication_id)
    assert trend_chart(pub).title == "新規つなぎメモの推移（分野別・2026年10月〜2026年11月）"
    assert "（分野別・2026年10月〜2026年11月）のグラフ" in all_text(post_message(pub)[1])
    assert "12か月" not in all_text(post_message(pub)[1])


def test_the_chart_follows_its_message(bot):
    october(bot.rt.engine)
    bot.deliver()  # the memos' own messages first
    with transaction(bot.rt.engine) as session:
        from reminders.linknet_job import ack_deadline_function

        post(session, month=OCTOBER, now=START, deadline=ack_deadline_function(session))
    bot.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    bot.deliver()
    # The message could not be posted: its chart is not uploaded alone (and admins are told).
    assert bot.slack.messages(LINKNET) == [] and bot.slack.uploads() == []
    with transaction(bot.rt.engine) as session:
        states = {n.kind: n.state for n in session.exec(select(Notice))}
    assert states["linknet_post"] == "failed" and states["linknet_chart"] == "cancelled"
    assert bot.slack.messages("C0ADMIN")


def test_the_job_waits_for_the_first_business_day_at_nine(bot):
    october(bot.rt.engine)
    with transaction(bot.rt.engine) as session:
        # 2026-11-01 is a Sunday: the first business day is Monday the 2nd.
        assert due_month(session, jst(2026, 11, 1, 12)) is None
        assert due_month(session, jst(2026, 11, 2, 8, 59)) is None
        assert due_month(session, jst(2026, 11, 2, 9, 0)) == OCTOBER
    run_job(bot, jst(2026, 11, 2, 8, 59))
    assert bot.slack.messages(LINKNET) == []
    run_job(bot, jst(2026, 11, 2, 9, 0))
    run_job(bot, jst(2026, 11, 3, 9, 0))  # the next day, and a restart: still once
    assert len(bot.slack.messages(LINKNET)) == 1
    assert len(bot.slack.uploads(LINKNET)) == 1


def test_the_post_time_is_configurable(bot):
    with transaction(bot.rt.engine) as session:
        session.merge(OrgSetting(key="linknet", value={"post_time": "13:30"}))
    with transaction(bot.rt.engine) as session:
        assert due_month(session, jst(2026, 11, 2, 13, 29)) is None
        assert due_month(session, jst(2026, 11, 2, 13, 30)) == OCTOBER


# --- the preview ----------------------------------------------------------------------------


def answers_to(bot, user) -> list[dict]:
    """What reached the person after a command: ephemerals to them, then their DMs."""
    return bot.slack.ephemerals(user) + bot.slack.messages(f"D{user}")


def placeholder(answer) -> str:
    assert answer.status == 200, answer.text
    try:
        return answer.json()["text"]
    except ValueError:  # Bolt answers a plain text reply as text/plain
        return answer.text


def summary(bot, user, text="summary"):
    """The preview arrives after the acknowledgement (a placeholder), only to the person."""
    before = len(answers_to(bot, user))
    answer = bot.signed.command(user, text, trigger_id=bot.slack.issue_trigger_id())
    assert placeholder(answer) == "作成しています…少しお待ちください。"
    return bot.slack.wait_for(lambda: answers_to(bot, user)[before:])[-1]


def test_the_coordinator_previews_the_next_post_privately(bot):
    october(bot.rt.engine)
    answer = summary(bot, "U0COORD", "summary 2026-10")
    text = all_text(answer["blocks"])
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert "プレビュー" in text and "<#C0LINKNET>" in text and "計：14件" in text
    assert "折れ線グラフです。" in text  # the chart, in words
    assert bot.slack.messages(LINKNET) == []  # nothing was posted
    with transaction(bot.rt.engine) as session:
        assert session.exec(select(LinknetPublication)).all() == []  # nor published
    # Without a month: the last month that is over (October, on 27 November).
    assert "2026年10月" in all_text(summary(bot, "U0COORD")["blocks"])


@pytest.mark.parametrize("user", ["U0WIN1", "U0DEPT1", "U0ADMIN1", "U0STRANGER"])
def test_others_may_not_preview(bot, user):
    october(bot.rt.engine)
    answer = summary(bot, user, "summary 2026-10")
    assert "blocks" not in answer or "計：" not in all_text(answer.get("blocks"))
    assert "重層推進室" in answer["text"] or "登録" in answer["text"]
    with transaction(bot.rt.engine) as session:
        refused = session.exec(
            select(AuditEntry).where(AuditEntry.action == "preview_linknet")
        ).all()
    assert [(e.actor_slack_id, e.allowed) for e in refused] == [(user, False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("summary 2026-13", "年-月"),
        ("summary 2026-11", "まだ終わっていない"),
        ("summary 2026-10 extra", "使い方"),
    ],
)
def test_a_bad_preview_request_is_explained(bot, text, expected):
    answer = summary(bot, "U0COORD", text)
    assert expected in answer["text"] and not answer.get("blocks")


def test_the_preview_of_a_posted_month_shows_what_was_posted(bot):
    october(bot.rt.engine)
    run_job(bot, START)
    answer = summary(bot, "U0COORD", "summary 2026-10")
    assert "投稿済み" in all_text(answer["blocks"])


# --- the CLI --------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, db_url, slack):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    monkeypatch.setenv("TSUNAGI_CHANNEL_INTERVAL", "0")
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)


AT = ["--at", "2026-11-27T10:00"]


def test_cli_post_is_idempotent_per_month_unless_again(cli_env, org, slack, capsys):
    october(org)
    assert main(["linknet", "post", "--period", "2026-10", *AT]) == 0
    assert "送りました" in capsys.readouterr().out
    assert len(slack.messages(LINKNET)) == 1 and len(slack.uploads(LINKNET)) == 1
    assert main(["linknet", "post", "--period", "2026-10", *AT]) == 0
    assert "すでに送っています" in capsys.readouterr().out
    assert len(slack.messages(LINKNET)) == 1 and len(slack.uploads(LINKNET)) == 1
    assert main(["linknet", "post", "--period", "2026-10", "--again", *AT]) == 0
    assert len(slack.messages(LINKNET)) == 2 and len(slack.uploads(LINKNET)) == 2
    first, second = slack.messages(LINKNET)
    assert first["blocks"] == second["blocks"]  # the same frozen figures


def test_cli_post_defaults_to_last_month_and_refuses_bad_input(cli_env, org, slack, capsys):
    october(org)
    assert main(["linknet", "post", "--period", "2026-11", *AT]) == 2
    assert "まだ終わっていない" in capsys.readouterr().err
    assert main(["linknet", "post", "--period", "10/2026", *AT]) == 2
    assert slack.messages(LINKNET) == []
    assert main(["linknet", "post", *AT]) == 0
    assert "2026年10月" in slack.messages(LINKNET)[0]["text"]


# The yearly report's files, cell by cell: tests/linknet/test_linknet_report.py.


def test_cli_report_of_a_year_not_begun(cli_env, org, capsys):
    assert main(["report", "fy", "2027", *AT]) == 2
    assert "始まっていません" in capsys.readouterr().err


def test_cli_report_to_stdout(cli_env, org, capsys):
    october(org, n=2)
    assert main(["report", "fy", "2026", *AT]) == 0
    assert "項目,区分" in capsys.readouterr().out


def test_a_missed_post_waits_for_office_hours_at_night_and_on_saturday(bot):
    """The bot was down on the first business day: started at 02:37 it waits for 9:00; started
    on a Saturday morning it waits for Monday's 9:00 (the clock is set, nothing sleeps)."""
    october(bot.rt.engine)
    with transaction(bot.rt.engine) as session:
        assert due_month(session, jst(2026, 11, 4, 2, 37)) is None  # Wednesday night
        assert due_month(session, jst(2026, 11, 7, 6, 2)) is None  # Saturday morning
        assert due_month(session, jst(2026, 11, 8, 12, 0)) is None  # Sunday noon
        assert due_month(session, jst(2026, 11, 9, 8, 59)) is None  # Monday before nine
        assert due_month(session, jst(2026, 11, 9, 9, 0)) == OCTOBER
        assert due_month(session, jst(2026, 11, 9, 17, 15)) is None  # closed again
    run_job(bot, jst(2026, 11, 7, 6, 2))
    run_job(bot, jst(2026, 11, 9, 2, 37))
    assert bot.slack.messages(LINKNET) == []
    run_job(bot, jst(2026, 11, 9, 9, 0))
    assert len(bot.slack.messages(LINKNET)) == 1
