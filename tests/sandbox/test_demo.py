"""`tsunagi demo`: the week plays through the real bot, the page shows what each person saw,
no personal string reaches Slack, and headless Chromium renders the page (chart included)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from handlers.common.texts import t
from models.base.clock import TOKYO
from sandbox.demo import org as o
from sandbox.demo import story
from sandbox.demo.record import Entry, Kind, dm_of
from sandbox.demo.run import PrivacyLeak, find_leaks, run_demo
from sandbox.standin.server import Call

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
IN_CI = os.environ.get("CI") == "true"


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def text_before_params(code: str) -> str:
    """The fixed start of a text, up to its first {parameter}."""
    return t(code, **{k: "\x00" for k in ("names", "users", "kind", "when", "number")}).split(
        "\x00"
    )[0]


@pytest.fixture(scope="module")
def demo():
    return run_demo()


@pytest.fixture(scope="module")
def page(demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "tsunagi-demo.html"
    path.write_text(demo.html, encoding="utf-8")
    return path


def section(html: str, user: str) -> str:
    start = html.index(f'data-user="{user}"')
    end = html.find('<section class="person"', start)
    return html[start : end if end != -1 else len(html)]


# --- the week -------------------------------------------------------------------------------------


def test_every_person_of_the_org_has_a_section_and_a_table_of_contents_entry(demo):
    people = demo.recording.people
    assert {p.user_id for p in people} == {
        o.COORDINATOR, o.HOUKATSU, o.SHOGAI, o.KODOMO, o.FUKUSHI, o.BYOIN,
        o.CHIKATSU, o.MINSEI, o.TEACHER, o.ZEIMU, o.JUMIN, o.ADMIN,
    }  # fmt: skip
    for p in people:
        assert f'data-user="{p.user_id}"' in demo.html
        assert demo.html.count(f'href="#person-{p.user_id}"') >= 2  # sidebar and contents
    assert "すべて架空です" in demo.html


def test_the_memo_is_routed_taken_and_its_receipt_number_shown(demo):
    number = demo.cast.household
    assert re.fullmatch(r"R8-\d{4}", number)
    coordinator = section(demo.html, o.COORDINATOR)
    teacher = section(demo.html, o.TEACHER)
    assert number in coordinator and number in teacher
    assert t("memo.error.kana_only") in teacher  # the first try, answered inline
    assert "modal-entry errors" in teacher
    assert f"{number} を引き受けました" in coordinator  # the acknowledgement, to the coordinator
    assert "が引き受けました" in teacher  # the referrer's closed loop


def test_the_weeks_memos_start_at_r8_0001_and_the_history_still_fills_the_figures(demo):
    """The months before the week are numbered apart (R8-9001 …): the story's first memo is
    R8-0001, as the page says, and November's Link-net post still counts the months before."""
    assert (demo.cast.household, demo.cast.neighbour) == ("R8-0001", "R8-0002")
    assert "R8-9001" in t("demo.page.intro_4") and "R8-0001" in t("demo.page.intro_4")
    assert t("demo.page.intro_4") in demo.html
    history = {n for n in re.findall(r"R8-(\d{4})", demo.html) if n.startswith("9")}
    assert history  # a partner's Home lists the memos it sent in those months
    [post] = [
        e
        for e in demo.recording.entries
        if e.kind is Kind.message and e.conversation == o.LINKNET_CHANNEL
    ]
    total = re.search(r"年度累計：(\d+)件", json.dumps(post.blocks, ensure_ascii=False))
    assert total and int(total.group(1)) > 150  # the fiscal year to date: history included


def test_the_unbound_member_is_refused_and_the_saponet_meeting_scheduled(demo):
    coordinator = section(demo.html, o.COORDINATOR)
    refusal = text_before_params("meeting.saponet_unbound")
    assert refusal and refusal in coordinator
    assert "試験 先生子さん" in coordinator  # who was refused, in the form's error
    invited = section(demo.html, o.HOUKATSU)
    assert "さぽネット会議" in invited and "2026年12月3日（木）10:00" in invited
    assert "さぽネット会議" not in section(demo.html, o.TEACHER).split("home-pane")[0]


def test_reminders_fire_at_their_business_times(demo):
    entries = demo.recording.entries
    ack = [
        e
        for e in entries
        if e.kind is Kind.message
        and e.conversation == "C0HOUKATSU"
        and demo.cast.neighbour in e.text
        and "引き受けられていません" in e.text
    ]
    assert [e.at for e in ack] == [jst("2026-12-02 14:00")]  # 2 business days after Mon 14:00
    eve = [
        e
        for e in entries
        if e.kind is Kind.message
        and e.conversation == dm_of(o.HOUKATSU)
        and "次の開庁日" in json.dumps(e.blocks, ensure_ascii=False)
    ]
    assert [e.at for e in eve] == [jst("2026-12-02 08:30")]  # the business day before Thu


def test_outreach_consent_and_the_plan_reach_the_people_concerned(demo):
    houkatsu = section(demo.html, o.HOUKATSU)
    chikatsu = section(demo.html, o.CHIKATSU)
    assert "同意が得られた" in houkatsu
    assert "たつのまるごと会議" in houkatsu
    assert "役割分担が届きました" in chikatsu or "役割" in chikatsu
    assert "進み具合の記録" in chikatsu


def test_the_linknet_post_carries_its_chart(demo):
    files = [e for e in demo.recording.entries if e.kind is Kind.file]
    assert len(files) == 1 and files[0].conversation == o.LINKNET_CHANNEL
    assert files[0].at == jst("2026-12-01 09:00")  # the first business day of December
    department = section(demo.html, o.ZEIMU)
    found = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', department)
    assert found
    png = base64.b64decode(found.group(1))
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert "data:image/png" not in section(demo.html, o.TEACHER)  # not in the channel


def test_no_personal_string_reached_slack(demo):
    sent = [
        e
        for e in demo.recording.entries
        if e.kind in (Kind.message, Kind.update, Kind.file, Kind.ephemeral, Kind.reply, Kind.home)
    ]
    dumped = json.dumps([(e.text, e.blocks, e.view) for e in sent], ensure_ascii=False)
    for values in story.PERSONAL.values():
        for value in values:
            assert value not in dumped
    # … and they are in the modals of the entitled coordinator (the demo is not vacuous)
    coordinator = section(demo.html, o.COORDINATOR)
    assert story.HOUSEHOLD["person_name"] in coordinator
    assert story.HOUSEHOLD["person_name"] not in section(demo.html, o.ZEIMU)


def test_the_privacy_check_finds_a_leak():
    personal = story.PERSONAL["household"][0]
    calls = [
        Call("chat.postMessage", {"channel": "C0X", "text": f"{personal}さん"}, True, None, 200)
    ]
    assert find_leaks(calls, [], lambda user, group: True) == ["chat.postMessage C0X"]
    entries = [
        Entry(story.START, Kind.modal, user="U0ZEIMU1", view={"blocks": [{"text": personal}]}),
        Entry(story.START, Kind.submitted, user="U0GAKKO1", view={"blocks": [{"t": personal}]}),
        Entry(story.START, Kind.reply, user="U0GAKKO1", text=personal),
    ]
    places = find_leaks([], entries, lambda user, group: user != "U0ZEIMU1")
    assert places == ["modal U0ZEIMU1 (household)", "reply U0GAKKO1"]
    assert PrivacyLeak(places).places == places


def test_the_command_writes_the_page_and_refuses_bad_days(tmp_path, capsys, monkeypatch):
    assert main(["demo", "--open-days", "0"]) == 2
    assert "1 から 5" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--open-days", "1", "--output", "monday.html"]) == 0
    html = (tmp_path / "monday.html").read_text(encoding="utf-8")
    assert "monday.html" in capsys.readouterr().out
    assert "12月1日" not in html.split("</header>")[1]  # only Monday was played
    assert 'data-user="U0SUISHIN1"' in html
    assert (tmp_path / "monday.html").stat().st_mode & 0o777 == 0o600


def test_the_command_refuses_to_overwrite_a_page_without_force(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.html").write_text("my own notes", encoding="utf-8")
    assert main(["demo", "--open-days", "1", "--output", "mine.html"]) == 2
    err = capsys.readouterr().err
    assert "mine.html" in err and "--force" in err and "Traceback" not in err
    assert (tmp_path / "mine.html").read_text(encoding="utf-8") == "my own notes"
    assert main(["demo", "--open-days", "1", "--output", "mine.html", "--force"]) == 0
    assert "<html" in (tmp_path / "mine.html").read_text(encoding="utf-8")


# --- headless Chromium ----------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener("load", function () {
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    people: Array.from(document.querySelectorAll("section.person")).map(function (s) {
      return [s.dataset.user, s.getBoundingClientRect().height];
    }),
    images: Array.from(document.images).map(function (i) {
      return [i.naturalWidth, i.naturalHeight, i.complete];
    }),
  });
  document.body.appendChild(out);
});
</script>"""


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("chromium is not installed (CI installs it in .ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_chromium_renders_every_person_and_decodes_the_chart(demo, page, tmp_path):
    # The page itself runs nothing (its CSP forbids scripts); a copy gets a probe script.
    assert "<script" not in page.read_text(encoding="utf-8").lower()
    probe = tmp_path / "probe.html"
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", demo.html)
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = chromium("--dump-dom", probe.as_uri(), tmp=tmp_path)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    shown = dict(result["people"])
    assert set(shown) == {p.user_id for p in demo.recording.people}
    assert all(height > 100 for height in shown.values())
    assert result["images"], "the chart is not on the page"
    assert all(complete and width >= 300 for width, _, complete in result["images"])


def test_chromium_screenshot_is_not_blank(page, tmp_path):
    shot = tmp_path / "page.png"
    done = chromium("--window-size=1400,2000", f"--screenshot={shot}", page.as_uri(), tmp=tmp_path)
    assert shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 50_000  # text, cards, colours
