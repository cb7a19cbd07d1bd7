"""`tsunagi bench`: how fast the bot answers, how much it takes, and how it grows.

Everything runs on 127.0.0.1: the Slack stand-in, the bot (`tsunagi run --http`), a bare Bolt
app as the yardstick, and a separate load-generator process. Prints a table; asserts nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy

from models.base import crypto
from models.base.db import make_engine, normalise_url, transaction
from models.ops import migrate
from models.ops.keys import check_key
from models.org.orgfile import load, parse
from sandbox.bench import scale
from sandbox.standin.signed import SignedSlack

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
KEY = "q2yGgFQ9bz8e3uGJtYHmVwJYzJ2mKcV8cM7r6-1mP7o="
USER = "U0BENCH"
COORDINATOR = "U0BCOORD"
WINDOW = "U0BWIN"
ORG = """
[town]
name = "辰野町"
timezone = "Asia/Tokyo"
[channels]
coordinator = "C0BCOORD"
admin = "C0BADMIN"
linknet = "C0BLINK"
[[agencies]]
key = "suishin"
name = "重層推進室"
kind = "coordinator"
[[agencies]]
key = "houkatsu"
name = "高齢者相談支援センター"
kind = "window"
domain = "elderly"
channel = "C0BELDER"
[[agencies]]
key = "shogai"
name = "障がい福祉係"
kind = "window"
domain = "disability"
channel = "C0BDIS"
[[agencies]]
key = "kodomo"
name = "こども家庭センター"
kind = "window"
domain = "children"
channel = "C0BCHILD"
[[agencies]]
key = "fukushi"
name = "社会福祉係"
kind = "window"
domain = "poverty"
channel = "C0BPOV"
[[agencies]]
key = "gakko"
name = "合成小学校"
kind = "partner"
[[members]]
slack_id = "U0BENCH"
name = "合成 送信者"
agency = "gakko"
roles = ["partner"]
[[members]]
slack_id = "U0BCOORD"
name = "合成 調整者"
agency = "suishin"
roles = ["coordinator"]
[[members]]
slack_id = "U0BWIN"
name = "合成 窓口"
agency = "houkatsu"
roles = ["window"]
"""
CHANNELS = ["C0BCOORD", "C0BADMIN", "C0BLINK", "C0BELDER", "C0BDIS", "C0BCHILD", "C0BPOV"]
USERS = ["U0BENCH", "U0BCOORD", "U0BWIN"]


# (load.py kind, label, allowed p99 ratio to bare Bolt) — issue 14, point 3.
KINDS = [
    ("submit", "memo submission", 1.5),
    ("command", "/tsunagi (memo form)", 2),
    ("acknowledge", "button: take a memo (引き受ける)", 2),
    ("command:help", "/tsunagi help", 2),
    ("command:mine", "/tsunagi mine", 2),
    ("command:status R8-0001", "/tsunagi status R8-0001", 2),
    ("command:outreach list", "/tsunagi outreach list", 2),
    ("command:meeting", "/tsunagi meeting", 2),
    ("command:resources", "/tsunagi resources", 2),
    ("shortcut", "global shortcut (memo)", 2),
    ("message_shortcut", "message shortcut (memo)", 2),
    ("home", "App Home opened", 2),
]


@dataclass
class Sizes:
    clients: tuple[int, ...] = (1, 8, 32)
    requests: int = 400  # per kind, level and app
    seconds: float = 15.0  # cap per run
    throughput_seconds: float = 30.0
    scale_cases: int = 100_000
    scale_reminders: int = 10_000


QUICK = Sizes(
    clients=(1, 4),
    requests=20,
    seconds=5,
    throughput_seconds=2,
    scale_cases=500,
    scale_reminders=100,
)


@dataclass
class Report:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, value: str, target: str = "") -> None:
        self.rows.append((what, value, target))
        print(f"  {what:<58} {value:>22}  {target}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


class Processes:
    """Child processes, always ended when the benchmark ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.children: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict, name: str, **kw) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        proc = subprocess.Popen([sys.executable, *args], env=env, stderr=log, text=True, **kw)
        self.children.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc in self.children:
            self.children.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.children):
            self.stop(proc)


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TSUNAGI_"))}
    return env


@contextlib.contextmanager
def database(kind: str, folder: Path, postgres_url: str | None) -> Iterator[str]:
    """A fresh, migrated database with the bench organisation loaded."""
    if kind == "sqlite":
        url = f"sqlite:///{folder}/bench-{uuid.uuid4().hex[:6]}.db"
        drop: Callable[[], None] = lambda: None  # noqa: E731
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sqlalchemy.create_engine(normalise_url(postgres_url))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in postgres_url else "?"
        url = f"{postgres_url}{sep}options=-csearch_path%3D{schema}"

        def drop() -> None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()

    migrate.upgrade(url)
    crypto.configure([KEY])
    engine = make_engine(url)
    with transaction(engine) as session:
        load(session, parse(ORG))
        check_key(session)
    engine.dispose()
    try:
        yield url
    finally:
        drop()


class Bench:
    def __init__(self, sizes: Sizes, postgres_url: str | None, folder: Path) -> None:
        self.sizes = sizes
        self.postgres_url = postgres_url
        self.folder = folder
        self.procs = Processes(folder)
        self.report = Report()
        self.case_ids: list[str] = []

    # --- processes ------------------------------------------------------------------------
    def start_standin(self) -> tuple[str, str]:
        proc = self.procs.start(
            ["-m", "sandbox.standin", TOKEN], base_env(), "standin", stdout=subprocess.PIPE
        )
        api = proc.stdout.readline().strip()
        control = api.removesuffix("api/") + "_standin/"
        body = json.dumps({"channels": CHANNELS, "users": USERS}).encode()
        urllib.request.urlopen(urllib.request.Request(control + "setup", data=body), timeout=10)
        return api, control

    def bot_env(self, db_url: str) -> dict:
        return {
            **base_env(),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.api,
            "TSUNAGI_DATABASE_URL": db_url,
            "TSUNAGI_ENCRYPTION_KEY": KEY,
        }

    def start_bot(self, db_url: str) -> tuple[subprocess.Popen, str, float]:
        """Start `tsunagi run --http`; return it, its URL and the time to the first answer."""
        port = free_port()
        started = time.perf_counter()
        proc = self.procs.start(
            [
                "-m",
                "bot.cli.main",
                "run",
                "--http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            self.bot_env(db_url),
            "bot",
        )
        url = f"http://127.0.0.1:{port}/slack/events"
        slack = SignedSlack(url, SECRET)
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the bot exited; see {self.folder}/bot.log")
            with contextlib.suppress(OSError):
                if slack.command(USER, "help", trigger_id="t").status == 200:
                    return proc, url, time.perf_counter() - started
            time.sleep(0.02)

    def start_bare(self) -> str:
        proc = self.procs.start(
            ["-m", "sandbox.bench.bare", "0", SECRET, TOKEN, self.api],
            base_env(),
            "bare",
            stdout=subprocess.PIPE,
        )
        return f"http://127.0.0.1:{proc.stdout.readline().strip()}/slack/events"

    def load(self, url: str, kind: str, clients: int, count: int, seconds: float) -> dict:
        spec = {
            "values": self.case_ids,
            "channel": "C0BELDER",
            "clicker": WINDOW,
            "url": url,
            "secret": SECRET,
            "kind": kind,
            "clients": clients,
            "count": count,
            "seconds": seconds,
            "control": self.control,
            "user": USER,
        }
        out = subprocess.run(
            [sys.executable, "-m", "sandbox.bench.load"],
            input=json.dumps(spec),
            text=True,
            capture_output=True,
            env=base_env(),
            timeout=seconds + 120,
            check=True,
        )
        return json.loads(out.stdout)

    # --- the parts ------------------------------------------------------------------------
    def remember_cases(self, db_url: str) -> None:
        """The cases the memo rows stored and nobody took yet: the button rows take them in
        turn (each load starts at the first, so this is read again after the warm-up)."""
        engine = make_engine(db_url)
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                'SELECT id FROM "case" WHERE acknowledged_at IS NULL ORDER BY id'
            ).scalars()
            self.case_ids = [str(r) for r in rows]
        engine.dispose()

    def kinds_table(self, bot_url: str, bare_url: str, db_url: str) -> None:
        """One row per request kind at 8 clients: p50, p99, max (ms), p99 ratio to bare Bolt."""
        print(
            "\nEvery request kind, 8 clients (ms: p50 / p99 / max; ratio of p99 to bare Bolt)",
            flush=True,
        )
        for kind, label, limit in KINDS:
            if kind == "acknowledge":
                self.remember_cases(db_url)
            for url in (bare_url, bot_url):  # warm both (first-use imports, caches), unmeasured
                self.load(url, kind, 8, 16, self.sizes.seconds)
            if kind == "acknowledge":  # the warm-up took the first ones
                self.remember_cases(db_url)
            bare = self.load(bare_url, kind, 8, self.sizes.requests, self.sizes.seconds)
            ours = self.load(bot_url, kind, 8, self.sizes.requests, self.sizes.seconds)
            b, o = percentiles(bare["latencies"]), percentiles(ours["latencies"])
            top = max(ours["latencies"], default=0.0)
            self.report.add(
                f"{label}: tsunagi / bare",
                f"{o[0] * 1000:.0f} / {o[2] * 1000:.0f} / {top * 1000:.0f}"
                f"  vs  {b[0] * 1000:.0f} / {b[2] * 1000:.0f}"
                f"  {o[2] / b[2]:.2f}x ({ours['errors']} errors)",
                f"target: p99 <= {limit}x bare, max < 1 s",
            )

    def latency(self, bot_url: str, bare_url: str, db_url: str) -> None:
        self.kinds_table(bot_url, bare_url, db_url)
        print("\nAnswer latency (signed requests to /slack/events; p50 / p95 / p99)", flush=True)
        for kind, label in (
            ("command", "/tsunagi (opens the modal)"),
            ("submit", "memo view_submission (validate, store, route)"),
        ):
            for clients in self.sizes.clients:
                bare = self.load(bare_url, kind, clients, self.sizes.requests, self.sizes.seconds)
                ours = self.load(bot_url, kind, clients, self.sizes.requests, self.sizes.seconds)
                b, o = percentiles(bare["latencies"]), percentiles(ours["latencies"])
                target = ""
                if kind == "submit" and clients == 8:
                    target = "target: p99 < 1.5x bare and < 100 ms"
                self.report.add(
                    f"{label}, {clients} clients, bare Bolt",
                    " / ".join(f"{v * 1000:.1f}" for v in b) + " ms",
                )
                self.report.add(
                    f"{label}, {clients} clients, tsunagi",
                    " / ".join(f"{v * 1000:.1f}" for v in o) + " ms",
                )
                self.report.add(
                    f"{label}, {clients} clients, ratio p99",
                    f"{o[2] / b[2]:.2f}x  ({ours['errors']} errors)",
                    target,
                )

    def throughput(self, bot_url: str, name: str, db_url: str) -> None:
        result = self.load(bot_url, "submit", 8, 10**9, self.sizes.throughput_seconds)
        ok = len(result["latencies"]) - result["errors"]
        engine = make_engine(db_url)
        with engine.connect() as conn:
            stored = conn.exec_driver_sql('SELECT COUNT(*) FROM "case"').scalar()
        engine.dispose()
        self.report.add(
            f"memos stored and routed per second ({name}, 8 clients)",
            f"{ok / result['elapsed']:.0f}/s  ({stored} stored)",
        )

    def rss(self, proc: subprocess.Popen, when: str) -> None:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        self.report.add(
            f"peak RSS of the bot process ({when})",
            f"{int(peak.split()[1]) / 1024:.0f} MB",
            "target: < 200 MB",
        )

    def scale(self) -> None:

        print(f"\nScale ({self.sizes.scale_cases:,} synthetic cases)", flush=True)
        with database("sqlite", self.folder, None) as db_url:
            engine = make_engine(db_url)
            started = time.perf_counter()
            scale.populate(engine, cases=self.sizes.scale_cases)
            self.report.add(
                "generate the synthetic cases (setup, not a target)",
                f"{time.perf_counter() - started:.1f} s",
            )
            for name, target, step in scale.steps(self.sizes):
                seconds = step(engine)
                self.report.add(name, ms(seconds), target)
            engine.dispose()
            proc, url, _ = self.start_bot(db_url)
            scale.exercise_bot(SignedSlack(url, SECRET), self.control, COORDINATOR)
            self.rss(proc, f"after App Home over {self.sizes.scale_cases:,} cases")
            self.procs.stop(proc)

    def run(self, *, skip_scale: bool = False) -> Report:
        try:
            self.api, self.control = self.start_standin()
            print("Start-up", flush=True)
            with database("sqlite", self.folder, None) as db_url:
                bot, bot_url, startup = self.start_bot(db_url)
                self.report.add("`tsunagi run --http` to the first answered request", ms(startup))
                bare_url = self.start_bare()
                self.latency(bot_url, bare_url, db_url)
                print("\nThroughput", flush=True)
                self.throughput(bot_url, "SQLite", db_url)
                self.rss(bot, "after the latency and throughput runs")
                self.procs.stop(bot)
            if self.postgres_url:
                with database("postgresql", self.folder, self.postgres_url) as db_url:
                    bot, bot_url, _ = self.start_bot(db_url)
                    self.throughput(bot_url, "PostgreSQL", db_url)
                    self.procs.stop(bot)
            else:
                self.report.add(
                    "memos per second (PostgreSQL)", "skipped", "set TSUNAGI_TEST_POSTGRES_URL"
                )
            if not skip_scale:
                self.scale()
        finally:
            self.procs.stop_all()
        return self.report


def main(*, quick: bool = False, postgres_url: str | None = None, skip_scale=False) -> int:
    sizes = QUICK if quick else Sizes()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tsunagi-bench-") as tmp:
        print(
            f"tsunagi bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        Bench(sizes, postgres_url, Path(tmp)).run(skip_scale=skip_scale)
    print(f"\ndone in {time.perf_counter() - began:.0f} s", flush=True)
    return 0
