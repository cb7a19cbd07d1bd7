"""The week the demo plays: Monday 30 November to Friday 4 December 2026, in Tatsuno.

A school sends a つなぎメモ about an 8050 household with ひきこもり; it goes to the coordinator,
who takes it, reads it (audited), records that consent is not yet obtained and assesses the
household. A さぽネット会議 is called with members bound by confidentiality (the bot refuses a
member who is not), decides on outreach to build trust; visits follow, the last one brings
consent, and a たつのまるごと会議 makes a support plan whose tasks the agencies work on.
Meanwhile a 民生委員's simple memo waits at a window until the acknowledgement deadline
reminds the team, and on the first business day of December the Link-net figures for
November are posted with their chart.

Every person and every detail is synthetic. The personal strings below must never reach a
Slack message (checked after every run in sandbox/demo/run.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.db import transaction
from models.org.tables import Agency
from sandbox.demo import history
from sandbox.demo import org as o
from sandbox.demo.record import dm_of
from sandbox.demo.render import day_label
from sandbox.demo.stage import Stage, StageError

START = datetime(2026, 11, 30, 8, 30, tzinfo=TOKYO)  # Monday, the office opens
HISTORY_FROM = date(2026, 4, 1)  # the bot went live with the fiscal year
HISTORY_TO = date(2026, 11, 27)  # the Friday before the week
PROLOGUE = datetime(2026, 11, 29, 20, 0, tzinfo=TOKYO)  # the bot was already running
OCTOBER_POSTED = datetime(2026, 11, 2, 9, 0, tzinfo=TOKYO)  # November's first business day

# The household of the first memo (an 8050 family: a mother in her 80s, a son in his 50s).
HOUSEHOLD = {
    "person_name": "辰野 試験郎",
    "person_kana": "たつの しけんろう",
    "age_band": "40-64",
    "district": "試験第二区",
    "contact": "0266-00-0000",
    "household": "試験用の世帯メモ：母（80代）と本人（50代）の二人暮らし",
    "concerns": ["hachimaru_gomaru", "hikikomori"],
    "narrative": (
        "試験用の相談内容です。児童の家庭訪問の際、祖母（80代）から、同居する息子（50代）が"
        "何年も外出できておらず、自分の体調も心配だと相談がありました。"
    ),
    "urgency": "three_days",
    "consent_to_share": "unknown",
}
# The second memo: an elderly neighbour a 民生委員 noticed.
NEIGHBOUR = {
    "person_name": "辰野 試験花子",
    "person_kana": "たつの しけんはなこ",
    "age_band": "75+",
    "district": "試験第一区",
    "contact": "0266-00-0001",
    "household": "試験用の世帯メモ：ひとり暮らし",
    "concerns": ["kaigo"],
    "narrative": "試験用の相談内容です。買い物と通院に困っている様子です。",
    "urgency": "normal",
    "consent_to_share": "yes",
}
VISIT_NOTE = "試験用の接触記録：玄関で母と話せた。本人は2階にいる様子。"
CONSENT_NOTE = "試験用の接触記録：本人と初めて話せた。母と一緒なら相談を続けたいとのこと。"
ASSESSMENT_NOTE = "試験用の見立て：母の介護負担と本人の長期のひきこもり。"

# What must never appear in a Slack message (only in modals of people entitled to the case).
# (The district is personal too, but its name is also one of the form's choices for everyone.)
PERSONAL: dict[str, tuple[str, ...]] = {
    "household": (
        HOUSEHOLD["person_name"],
        HOUSEHOLD["person_kana"],
        HOUSEHOLD["contact"],
        "試験用の世帯メモ：母",
        "何年も外出できておらず",
        "試験用の見立て",
        "試験用の接触記録",
    ),
    "neighbour": (
        NEIGHBOUR["person_name"],
        NEIGHBOUR["person_kana"],
        NEIGHBOUR["contact"],
        "試験用の世帯メモ：ひとり",
        "買い物と通院に困っている",
    ),
}


@dataclass
class Cast:
    """What the story learns on the way (receipt numbers, case ids)."""

    household: str | None = None  # receipt number
    household_id: int | None = None
    neighbour: str | None = None
    neighbour_id: int | None = None


def _case_id(message: dict) -> int:
    for block in message.get("blocks") or []:
        if str(block.get("block_id", "")).startswith("case:"):
            return int(block["block_id"].split(":", 1)[1])
    raise StageError("no case id in the card")


def _number_in(text: str) -> str:
    found = re.search(r"R\d+-\d{4}", text)
    if not found:
        raise StageError("no receipt number")
    return found.group(0)


# --- the prologue ---------------------------------------------------------------------------------


def prologue(stage: Stage) -> None:
    """The bot has been running: its periodic jobs have done their work (e.g. October's
    Link-net post). Nothing before the week is shown."""
    with transaction(stage.rt.engine) as session:
        history.seed(session, first=HISTORY_FROM, last=HISTORY_TO)
    stage.clock.at = OCTOBER_POSTED  # October's figures went out then (office hours only)
    stage.run_all_jobs()
    stage.clock.at = PROLOGUE
    stage.run_all_jobs()
    stage.recorder.skip()
    stage.at(START.isoformat(sep=" ")[:16])


# --- Monday ---------------------------------------------------------------------------------------


def monday(stage: Stage, cast: Cast) -> None:
    stage.at("2026-11-30 09:10")
    stage.scene("demo.story.mon_memo", o.TEACHER)
    stage.command(o.TEACHER, "", channel=dm_of(o.TEACHER))
    form = stage.last_modal(o.TEACHER)
    stage.submit(o.TEACHER, form, {**HOUSEHOLD, "person_kana": "辰野 試験郎"})  # kanji: refused
    answer = stage.submit(o.TEACHER, form, HOUSEHOLD)
    cast.household = _number_in(json.dumps(answer, ensure_ascii=False))

    stage.at("2026-11-30 09:25")
    stage.scene("demo.story.mon_take", o.COORDINATOR)
    stage.open_home(o.COORDINATOR)
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_acknowledge")
    cast.household_id = _case_id(card)
    stage.click(o.COORDINATOR, card, "case_acknowledge")
    stage.at("2026-11-30 09:32")
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_detail")
    stage.click(o.COORDINATOR, card, "case_detail")

    stage.at("2026-11-30 09:50")
    stage.scene("demo.story.mon_status", o.TEACHER)
    stage.command(o.TEACHER, f"status {cast.household}", channel=dm_of(o.TEACHER))

    stage.at("2026-11-30 10:05")
    stage.scene("demo.story.mon_assess", o.COORDINATOR)
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_menu")
    stage.choose(o.COORDINATOR, card, "case_menu", f"start_assessment:{cast.household_id}")
    stage.submit(o.COORDINATOR, stage.last_modal(o.COORDINATOR), {})
    stage.at("2026-11-30 10:12")
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_menu")
    stage.choose(o.COORDINATOR, card, "case_menu", f"consent:{cast.household_id}")
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {"status": "unknown", "note": "学校経由の相談で、ご本人とはまだ会えていません。"},
    )
    stage.at("2026-11-30 10:40")
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_menu")
    stage.choose(o.COORDINATOR, card, "case_menu", f"assessment:{cast.household_id}")
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {
            "relationship_1": "本人",
            "age_band_1": "40-64",
            "concerns_1": ["hikikomori"],
            "relationship_2": "母",
            "age_band_2": "75+",
            "concerns_2": ["kaigo"],
            "main_issue": ASSESSMENT_NOTE,
            "wishes": "母は、息子が少しでも外とつながることを望んでいる。",
            "strengths": "母と学校（孫）との関係は良好。",
        },
    )

    stage.at("2026-11-30 11:00")
    stage.scene("demo.story.mon_saponet", o.COORDINATOR)
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_menu")
    stage.choose(o.COORDINATOR, card, "case_menu", f"advance:{cast.household_id}")
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {"stage": "saponet", "note": "本人同意が得られていないため、支援会議で検討します。"},
    )
    stage.at("2026-11-30 11:10")
    stage.command(o.COORDINATOR, "meeting さぽネット", channel=o.COORDINATOR_CHANNEL)
    form = stage.last_modal(o.COORDINATOR)
    meeting = {
        "date": "2026-12-03",
        "time": "10:00",
        "length": "60",
        "place": "辰野町役場 2階 第1会議室",
        "members": [o.COORDINATOR, o.HOUKATSU, o.MINSEI, o.BYOIN, o.TEACHER],
        "cases": [str(cast.household_id)],
    }
    stage.submit(o.COORDINATOR, form, meeting)  # the teacher has no 守秘義務 acknowledgement
    stage.submit(o.COORDINATOR, form, {**meeting, "members": meeting["members"][:-1]})

    stage.at("2026-11-30 14:00")
    stage.scene("demo.story.mon_second_memo", o.MINSEI)
    stage.command(o.MINSEI, "", channel=dm_of(o.MINSEI))
    answer = stage.submit(o.MINSEI, stage.last_modal(o.MINSEI), NEIGHBOUR)
    cast.neighbour = _number_in(json.dumps(answer, ensure_ascii=False))
    card = stage.message_with("C0HOUKATSU", cast.neighbour, action_id="case_acknowledge")
    cast.neighbour_id = _case_id(card)


# --- Tuesday --------------------------------------------------------------------------------------


def tuesday(stage: Stage, cast: Cast) -> None:
    stage.at("2026-12-01 08:55")
    stage.scene("demo.story.tue_linknet", o.ZEIMU, o.JUMIN, o.COORDINATOR)
    stage.at("2026-12-01 09:05")  # the scheduler's monthly job posts at 9:00
    stage.at("2026-12-01 09:30")
    stage.open_home(o.ZEIMU)
    stage.at("2026-12-01 10:15")
    stage.scene("demo.story.tue_refused", o.KODOMO)
    stage.command(o.KODOMO, f"status {cast.household}", channel="C0KODOMO")


# --- Wednesday ------------------------------------------------------------------------------------


def wednesday(stage: Stage, cast: Cast) -> None:
    stage.at("2026-12-02 13:55")
    stage.scene("demo.story.wed_reminder", o.HOUKATSU)
    stage.at("2026-12-02 14:10")
    reminder = stage.message_with("C0HOUKATSU", cast.neighbour, action_id="case_acknowledge")
    stage.click(o.HOUKATSU, reminder, "case_acknowledge")
    stage.at("2026-12-02 14:15")
    stage.open_home(o.HOUKATSU)


# --- Thursday, Friday -----------------------------------------------------------------------------


def _agency_id(stage: Stage, key: str) -> str:
    with Session(stage.rt.engine) as s:
        return str(s.exec(select(Agency.id).where(Agency.key == key)).one())


def thursday(stage: Stage, cast: Cast) -> None:
    stage.at("2026-12-03 10:00")
    stage.scene("demo.story.thu_saponet", o.COORDINATOR, o.HOUKATSU, o.MINSEI, o.BYOIN)
    stage.at("2026-12-03 11:30")
    stage.open_home(o.COORDINATOR)
    stage.click(o.COORDINATOR, stage.home(o.COORDINATOR), "meeting_open")
    stage.click(o.COORDINATOR, stage.last_modal(o.COORDINATOR), "meeting_outcome")
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {
            "direction": "まずは訪問を重ねて、ご本人・お母さんとの関係をつくる。",
            "lead": _agency_id(stage, "houkatsu"),
            "next_step": "outreach_for_consent",
            "review_on": "2026-12-17",
            "task_agency_0": _agency_id(stage, "minsei"),
            "task_what_0": "週1回の見守り訪問（会えないときは手紙）",
            "task_due_0": "2026-12-17",
        },
    )
    stage.at("2026-12-03 11:45")
    stage.scene("demo.story.thu_outreach", o.COORDINATOR)
    card = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="case_detail")
    stage.click(o.COORDINATOR, card, "case_detail")
    stage.click(o.COORDINATOR, stage.last_modal(o.COORDINATOR), "outreach_from_case")
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {
            "reason_kind": "hikikomori",
            "reason": "母の介護負担が大きく、本人は長く外出できていない。",
            "agencies": [_agency_id(stage, "houkatsu"), _agency_id(stage, "minsei")],
            "cadence": "7",
            "first_contact_on": "2026-12-04",
        },
    )
    stage.at("2026-12-03 15:30")
    stage.scene("demo.story.thu_visit", o.MINSEI)
    stage.open_home(o.MINSEI)
    stage.choose_menu(o.MINSEI, stage.home(o.MINSEI), "outreach_menu", "log")
    stage.submit(
        o.MINSEI,
        stage.last_modal(o.MINSEI),
        {"method": "visit", "outcome": "building", "note": VISIT_NOTE},
    )
    stage.at("2026-12-03 16:00")
    stage.scene("demo.story.thu_marugoto", o.COORDINATOR)
    stage.command(o.COORDINATOR, "meeting まるごと", channel=o.COORDINATOR_CHANNEL)
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {
            "date": "2026-12-04",
            "time": "15:00",
            "length": "60",
            "place": "辰野町役場 2階 第1会議室",
            "members": [o.COORDINATOR, o.HOUKATSU, o.MINSEI, o.BYOIN, o.CHIKATSU],
        },
    )


def friday(stage: Stage, cast: Cast) -> None:
    stage.at("2026-12-04 10:30")
    stage.scene("demo.story.fri_consent", o.HOUKATSU)
    stage.open_home(o.HOUKATSU)
    stage.choose_menu(o.HOUKATSU, stage.home(o.HOUKATSU), "outreach_menu", "log")
    form = stage.last_modal(o.HOUKATSU)
    stage.choose(o.HOUKATSU, form, "outreach_outcome", "consented")
    form = stage.last_modal(o.HOUKATSU)
    stage.submit(
        o.HOUKATSU,
        form,
        {
            "method": "visit",
            "outcome": "consented",
            "note": CONSENT_NOTE,
            "consent_method": "written",
            "consent_agencies": [
                _agency_id(stage, k) for k in ("suishin", "houkatsu", "minsei", "byoin", "chikatsu")
            ],
        },
    )
    stage.at("2026-12-04 10:45")
    notice = stage.message_with(o.COORDINATOR_CHANNEL, cast.household, action_id="outreach_agenda")
    stage.click(o.COORDINATOR, notice, "outreach_agenda")

    stage.at("2026-12-04 15:00")
    stage.scene("demo.story.fri_marugoto", o.COORDINATOR, o.HOUKATSU, o.BYOIN, o.CHIKATSU)
    stage.at("2026-12-04 16:00")
    stage.open_home(o.COORDINATOR)
    stage.click(o.COORDINATOR, stage.home(o.COORDINATOR), "meeting_open")
    stage.click(o.COORDINATOR, stage.last_modal(o.COORDINATOR), "meeting_outcome")
    stage.submit(
        o.COORDINATOR,
        stage.last_modal(o.COORDINATOR),
        {
            "direction": (
                "本人の希望にあわせて、少しずつ外とのつながりをつくる。母の介護の負担を減らす。"
            ),
            "lead": _agency_id(stage, "houkatsu"),
            "next_step": "start_support",
            "review_on": "2027-01-15",
            "goals": "本人が週1回、地域活動支援センターに通える\n母が介護サービスを使い始める",
            "task_agency_0": _agency_id(stage, "houkatsu"),
            "task_what_0": "母の介護保険の申請を手伝う",
            "task_due_0": "2026-12-11",
            "task_agency_1": _agency_id(stage, "chikatsu"),
            "task_what_1": "センターの見学に本人を誘う（家族と一緒でも可）",
            "task_due_1": "2026-12-18",
            "task_agency_2": _agency_id(stage, "byoin"),
            "task_what_2": "母の受診の予約と付き添いの調整",
            "task_due_2": "2026-12-18",
        },
    )
    stage.at("2026-12-04 16:30")
    stage.scene("demo.story.fri_tasks", o.CHIKATSU, o.HOUKATSU)
    task = stage.message_with(dm_of(o.CHIKATSU), action_id="task_progress")
    stage.click(o.CHIKATSU, task, "task_progress")
    stage.submit(
        o.CHIKATSU,
        stage.last_modal(o.CHIKATSU),
        {"note": "お母さんに電話で案内しました。来週、一緒に見学に来られる予定です。"},
    )
    task = stage.message_with("C0HOUKATSU", cast.household, action_id="task_done")
    stage.click(o.HOUKATSU, task, "task_done")
    stage.at("2026-12-04 17:00")
    stage.scene("demo.story.fri_end")
    for person in stage.people:
        stage.open_home(person.user_id)


DAYS: list[Callable[[Stage, Cast], None]] = [monday, tuesday, wednesday, thursday, friday]


def period(days: int = len(DAYS)) -> str:
    """「2026年11月30日（月）〜12月4日（金）」 for the days played."""

    last = START + timedelta(days=max(1, min(days, len(DAYS))) - 1)
    if last == START:
        return f"{START.year}年{day_label(START)}"
    return f"{START.year}年{day_label(START)}〜{day_label(last)}"


def play(stage: Stage, *, days: int = len(DAYS)) -> Cast:
    cast = Cast()
    prologue(stage)
    for day in DAYS[:days]:
        day(stage, cast)
    return cast
