"""The stage the demo plays on: the real bot, a fresh database, a local Slack, a frozen clock.

- A temporary SQLite database, migrated, with the demo org loaded.
- The Slack stand-in (sandbox/standin) in this process: it records every Web API call.
- The bot built by bot.runtime.build with a FrozenClock, served over HTTP on 127.0.0.1 by
  bot.server.make_server, driven with signed requests (sandbox/standin/signed.py).
- Time moves only when the story moves it. On the way, the scheduler's reminder tick and its
  periodic jobs run at the moments they would have run, and the delivery loop drains the
  outbox after each of them (as tests/test_reminders_e2e.py does).

The Recorder turns the stand-in's calls and the answers to the signed requests into the
entries of a Recording (sandbox/demo/record.py), each stamped with the clock's time.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from concurrent.futures import Executor, Future, wait
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, select

from bot import runtime
from bot.server import EVENTS_PATH, make_server, shutdown
from bot.settings import Settings
from handlers.common.texts import t
from models.base import crypto
from models.base.clock import TOKYO, FrozenClock
from models.base.db import transaction
from models.ops import migrate
from models.ops.keys import check_key
from models.org.orgfile import load, parse
from models.queues.tables import Notice, Reminder
from reminders.jobs import PeriodicJob
from sandbox.demo import org as demo_org
from sandbox.demo.record import Entry, Kind, Recording, Scene, Upload, dm_of
from sandbox.standin import SlackStandin
from sandbox.standin.signed import TEAM, Answer, SignedSlack, action_ts

SETTLE_TIMEOUT = 30.0


class StageError(RuntimeError):
    """The story could not go on (a message or a button it expected is not there)."""


class TrackingExecutor(Executor):
    """Bolt's listener executor, counting what it runs, so the stage can wait until the bot
    has finished every listener a request started (no sleeping, no guessing)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._futures: list[Future] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = self.inner.submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def wait_idle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
                self._futures = pending
            if not pending:
                return
            _, not_done = wait(pending, timeout=timeout)
            if not_done:
                raise StageError("a listener did not finish")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class Recorder:
    """Turns what reached the stand-in since the last look into entries, stamped with the clock."""

    def __init__(self, slack: SlackStandin, clock: FrozenClock) -> None:
        self.slack = slack
        self.clock = clock
        self.entries: list[Entry] = []
        self.trigger_user: dict[str, str] = {}
        self.view_user: dict[str, str] = {}
        self._calls = 0
        self._messages = 0
        self._views = 0

    def skip(self) -> None:
        """Forget everything so far (the time before the story starts)."""
        self.entries.clear()
        self._calls = len(self.slack.calls)
        self._messages = len(self.slack.messages())
        self._views = len(self.slack.views_opened())

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        return entry

    def collect(self) -> list[Entry]:
        at = self.clock()
        calls = self.slack.calls[self._calls :]
        messages = self.slack.messages()
        views = self.slack.views_opened()
        uploads = {u["id"]: u for u in self.slack.uploads()}
        made: list[Entry] = []
        for call in calls:
            self._calls += 1
            if not call.ok:
                continue
            a = call.args
            if call.method == "chat.postMessage":
                m = messages[self._messages]
                self._messages += 1
                made.append(
                    Entry(
                        at,
                        Kind.message,
                        conversation=m["channel"],
                        text=m["text"],
                        blocks=m["blocks"],
                        ts=m["ts"],
                        thread_ts=m["thread_ts"],
                    )
                )
            elif call.method == "chat.update":
                made.append(
                    Entry(
                        at,
                        Kind.update,
                        conversation=a.get("channel"),
                        text=a.get("text") or "",
                        blocks=a.get("blocks") or None,
                        ts=a.get("ts"),
                    )
                )
            elif call.method == "chat.postEphemeral":
                made.append(
                    Entry(
                        at,
                        Kind.ephemeral,
                        conversation=a.get("channel"),
                        user=a.get("user"),
                        text=a.get("text") or "",
                        blocks=a.get("blocks") or None,
                    )
                )
            elif call.method in ("views.open", "views.push"):
                v = views[self._views]
                self._views += 1
                user = self.trigger_user.get(a.get("trigger_id", ""))
                self.view_user[v["id"]] = user
                made.append(
                    Entry(
                        at,
                        Kind.modal,
                        user=user,
                        view=a.get("view"),
                        view_id=v["id"],
                        pushed=call.method == "views.push",
                    )
                )
            elif call.method == "views.update":
                view_id = a.get("view_id")
                made.append(
                    Entry(
                        at,
                        Kind.modal_update,
                        user=self.view_user.get(view_id),
                        view=a.get("view"),
                        view_id=view_id,
                    )
                )
            elif call.method == "views.publish":
                made.append(Entry(at, Kind.home, user=a.get("user_id"), view=a.get("view")))
            elif call.method == "files.completeUploadExternal":
                channel = a.get("channel_id") or (str(a.get("channels") or "").split(",")[0])
                for item in a.get("files") or []:
                    up = uploads.get(item.get("id"))
                    if up is None:
                        continue
                    made.append(
                        Entry(
                            at,
                            Kind.file,
                            conversation=channel,
                            text=a.get("initial_comment") or "",
                            upload=Upload(
                                filename=up["filename"],
                                title=up["title"] or up["filename"],
                                alt_text=up["alt_txt"] or "",
                                content=up["content"] or b"",
                                comment=a.get("initial_comment") or "",
                            ),
                        )
                    )
        self.entries.extend(made)
        return made


class Stage:
    """Everything the story needs: open() it, play, close() it."""

    def __init__(self, workdir: Path, *, start: datetime) -> None:
        self.workdir = Path(workdir)
        self.clock = FrozenClock(start)
        self.slack: SlackStandin | None = None
        self.rt: runtime.Runtime | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self.signed: SignedSlack | None = None
        self.recorder: Recorder | None = None
        self.channels: list[demo_org.Channel] = []
        self.people = []
        self.executor: TrackingExecutor | None = None
        self._event = 0
        self._job_runs: dict[str, datetime] = {}
        self.scenes: list[Scene] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def open(self) -> Stage:
        try:
            return self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> Stage:
        key = crypto.generate_key()
        crypto.configure([key])
        url = f"sqlite:///{self.workdir / 'tsunagi-demo.db'}"
        migrate.upgrade(url)
        self.slack = SlackStandin().start()
        secret = secrets.token_hex(16)
        settings = Settings(
            bot_token=self.slack.token,
            signing_secret=secret,
            slack_api_url=self.slack.base_url,
            database_url=url,
            encryption_keys=[key],
            channel_interval=0.0,
        )
        engine = runtime.prepare_database(settings)
        with transaction(engine) as session:
            load(session, parse(demo_org.ORG_TOML))
            check_key(session)
            self.channels = demo_org.channels(session)
            self.people = demo_org.people(session, self.channels)
        engine.dispose()
        for person in self.people:
            self.slack.add_user(person.user_id, real_name=person.name)
        for channel in self.channels:
            self.slack.add_channel(
                channel.id, name=channel.name, is_private=channel.private, members=channel.members
            )
        self.rt = runtime.build(settings, clock=self.clock)
        runner = self.rt.app.listener_runner
        self.executor = TrackingExecutor(runner.listener_executor)
        runner.listener_executor = self.executor
        runner.lazy_listener_runner.executor = self.executor
        self._server = make_server(self.rt.app, host="127.0.0.1", port=0, threads=4)
        self._thread = threading.Thread(target=self._server.run, name="demo-bot", daemon=True)
        self._thread.start()
        url = f"http://127.0.0.1:{self._server.effective_port}{EVENTS_PATH}"
        self.signed = SignedSlack(url, secret)
        self.recorder = Recorder(self.slack, self.clock)
        return self

    def close(self) -> None:
        if self._server is not None:
            shutdown(self._server, self._thread)
            self._server = None
        if self.rt is not None:
            self.rt.engine.dispose()
        if self.slack is not None:
            self.slack.stop()

    def __enter__(self) -> Stage:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def recording(self, *, title: str, period: str) -> Recording:
        return Recording(
            title=title,
            period=period,
            people=list(self.people),
            conversations=demo_org.conversations(self.channels),
            entries=list(self.recorder.entries),
            scenes=list(self.scenes),
        )

    # --- time --------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def settle(self) -> list[Entry]:
        """Wait for every listener, drain the outbox, and record what reached Slack."""
        for _ in range(50):
            self.executor.wait_idle()
            if not self.rt.delivery.run_once():
                self.executor.wait_idle()
                break
        return self.recorder.collect()

    def _next_due(self, until: datetime) -> datetime | None:
        now = self.clock()
        with Session(self.rt.engine) as s:
            reminder = s.exec(
                select(Reminder.next_attempt_at)
                .where(Reminder.state == "pending", Reminder.next_attempt_at > now)
                .where(Reminder.next_attempt_at <= until)
                .order_by(Reminder.next_attempt_at)
            ).first()
            notice = s.exec(
                select(Notice.next_attempt_at)
                .where(Notice.state == "pending", Notice.next_attempt_at > now)
                .where(Notice.next_attempt_at <= until)
                .order_by(Notice.next_attempt_at)
            ).first()
        found = [x for x in (reminder, notice, self._next_job(now, until)) if x is not None]
        return min(found) if found else None

    def _cron_jobs(self) -> list[PeriodicJob]:
        return [j for j in self.rt.scheduler.jobs if j.cron]

    def _next_job(self, now: datetime, until: datetime) -> datetime | None:
        times = []
        for job in self._cron_jobs():
            trigger = CronTrigger.from_crontab(job.cron, timezone=TOKYO)
            fire = trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
            if fire is not None and fire <= until:
                times.append(fire)
        return min(times) if times else None

    def _run_jobs_at(self, at: datetime) -> None:
        for job in self.rt.scheduler.jobs:
            if job.cron:
                trigger = CronTrigger.from_crontab(job.cron, timezone=TOKYO)
                fire = trigger.get_next_fire_time(None, at - timedelta(seconds=1))
                due = fire is not None and fire <= at and self._job_runs.get(job.name) != fire
                if due:
                    self._job_runs[job.name] = fire
                    self.rt.scheduler.run_job(job)
            else:
                self.rt.scheduler.run_job(job)  # interval jobs: cheap, idempotent

    def run_all_jobs(self) -> None:
        """Every periodic job once, as when the bot starts."""
        for job in self.rt.scheduler.jobs:
            self.rt.scheduler.run_job(job)
        self.rt.scheduler.tick()
        self.settle()

    def advance_to(self, when: datetime) -> None:
        """Move the clock to `when`, stopping at every moment something was due on the way."""
        if when < self.clock():
            raise StageError("time does not go back")
        while (due := self._next_due(when)) is not None:
            self.clock.at = due
            self._run_jobs_at(due)
            self.rt.scheduler.tick()
            self.settle()
        self.clock.at = when
        self._run_jobs_at(when)
        self.rt.scheduler.tick()
        self.settle()

    def at(self, text: str) -> None:
        """advance_to a Tatsuno time given as '2026-12-01 09:00'."""
        self.advance_to(datetime.fromisoformat(text).replace(tzinfo=TOKYO))

    # --- people acting -----------------------------------------------------------------------

    def _trigger(self, user: str) -> str:
        trigger = self.slack.issue_trigger_id()
        self.recorder.trigger_user[trigger] = user
        return trigger

    def scene(self, code: str, *people: str) -> None:
        """A line of the story (shown at the top of the page), at the current time."""
        self.scenes.append(Scene(self.clock(), t(code), tuple(people)))

    def note(self, user: str, text: str) -> None:
        self.recorder.add(Entry(self.clock(), Kind.action, user=user, text=text))

    def _check(self, answer: Answer) -> Answer:
        if answer.status != 200:
            raise StageError(f"the bot answered {answer.status}")
        return answer

    def command(self, user: str, text: str = "", *, channel: str | None = None) -> Answer:
        channel = channel or dm_of(user)
        self.note(user, t("demo.act.command", text=f"/tsunagi {text}".strip()))
        answer = self._check(
            self.signed.command(user, text, trigger_id=self._trigger(user), channel=channel)
        )
        body = _json(answer)
        if body.get("text") or body.get("blocks"):
            self.recorder.add(
                Entry(
                    self.clock(),
                    Kind.reply,
                    conversation=channel,
                    user=user,
                    text=body.get("text") or "",
                    blocks=body.get("blocks"),
                )
            )
        self.settle()
        return answer

    def open_home(self, user: str) -> None:
        self.note(user, t("demo.act.home"))
        self._event += 1
        self._check(
            self.signed.event(
                {
                    "type": "app_home_opened",
                    "user": user,
                    "channel": dm_of(user),
                    "tab": "home",
                    "event_ts": f"{self._event}.000",
                },
                event_id=f"Ev{uuid.uuid4().hex[:12].upper()}",
            )
        )
        self.settle()

    def _interaction(self, payload: dict) -> Answer:
        return self._check(self.signed.interaction(payload))

    def click(self, user: str, where: dict, action_id: str, *, value: str | None = None) -> None:
        """Click a button (found by action_id, and value when given) in a message or a view."""
        block, element = _find_element(where, action_id, value=value)
        self.note(user, t("demo.act.click", label=_label(element)))
        action = {
            "type": element.get("type", "button"),
            "action_id": action_id,
            "block_id": block.get("block_id", ""),
            "value": element.get("value"),
            "action_ts": action_ts(),
        }
        self._interaction(self._action_payload(user, where, action))
        self.settle()

    def choose(self, user: str, where: dict, action_id: str, value: str) -> None:
        """Choose `value` in a select menu of a message or a view."""
        block, element = _find_element(where, action_id)
        options = _options(element)
        chosen = next((o for o in options if o.get("value") == value), None)
        if chosen is None:
            raise StageError(f"{value} is not offered in {action_id}")
        menu = (element.get("placeholder") or {}).get("text") or (
            (block.get("label") or {}).get("text") or ""
        )
        code = "demo.act.choose" if menu else "demo.act.choose_unnamed"
        self.note(user, t(code, menu=menu, option=chosen["text"]["text"]))
        action = {
            "type": element.get("type", "static_select"),
            "action_id": action_id,
            "block_id": block.get("block_id", ""),
            "selected_option": chosen,
            "action_ts": action_ts(),
        }
        self._interaction(self._action_payload(user, where, action))
        self.settle()

    def choose_menu(self, user: str, where: dict, action_id: str, prefix: str) -> None:
        """Choose, in a menu (overflow or select), the first option whose value starts with
        `prefix` (e.g. "log" for "log:12")."""
        _, element = _find_element(where, action_id)
        for opt in _options(element):
            if str(opt.get("value", "")).startswith(prefix):
                self.choose(user, where, action_id, opt["value"])
                return
        raise StageError(f"no {prefix}… in {action_id}")

    def _action_payload(self, user: str, where: dict, action: dict) -> dict:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": TEAM["id"]},
            "trigger_id": self._trigger(user),
            "actions": [action],
        }
        if "channel" in where and "ts" in where:  # a message
            payload.update(
                container={
                    "type": "message",
                    "channel_id": where["channel"],
                    "message_ts": where["ts"],
                },
                channel={"id": where["channel"]},
                message={"ts": where["ts"], "blocks": where["blocks"]},
                response_url="http://127.0.0.1:9/unused",
            )
        else:  # a modal or the Home tab
            payload.update(container={"type": "view", "view_id": where.get("id")}, view=where)
        return payload

    def submit(self, user: str, view: dict, values: dict) -> dict:
        """Fill in and send a modal; record the form as sent and what the bot answered."""
        title = (view.get("title") or {}).get("text", "")
        submit = (view.get("submit") or {}).get("text", "")
        self.note(user, t("demo.act.submit", title=title, submit=submit))
        values = {**initial_values(view), **values}  # what Slack sends for untouched inputs
        values = self._with_suggested(user, view, values)
        sent = {**view, "state": {"values": state_for(view, values)}}
        answer = self._interaction(
            {
                "type": "view_submission",
                "user": {"id": user, "team_id": TEAM["id"]},
                "trigger_id": self._trigger(user),
                "view": sent,
            }
        )
        body = _json(answer)
        errors = body.get("errors") if body.get("response_action") == "errors" else None
        self.recorder.add(
            Entry(
                self.clock(),
                Kind.submitted,
                user=user,
                view=view,
                view_id=view.get("id"),
                values=values,
                errors=errors,
            )
        )
        if body.get("response_action") in ("update", "push") and body.get("view"):
            self.recorder.add(
                Entry(
                    self.clock(),
                    Kind.modal_update if body["response_action"] == "update" else Kind.modal,
                    user=user,
                    view=body["view"],
                    view_id=view.get("id"),
                    pushed=body["response_action"] == "push",
                )
            )
        self.settle()
        return body

    def suggest(self, user: str, view: dict, block_id: str, query: str = "") -> list[dict]:
        """The options the bot offers in an external select (Slack's block_suggestion)."""
        block = next(b for b in view.get("blocks") or [] if b.get("block_id") == block_id)
        element = block.get("element") or {}
        answer = self._interaction(
            {
                "type": "block_suggestion",
                "user": {"id": user, "team_id": TEAM["id"]},
                "action_id": element.get("action_id"),
                "block_id": block_id,
                "value": query,
                "container": {"type": "view", "view_id": view.get("id")},
                "view": view,
            }
        )
        body = _json(answer)
        found = list(body.get("options") or [])
        for group in body.get("option_groups") or []:
            found += group.get("options") or []
        return found

    def _with_suggested(self, user: str, view: dict, values: dict) -> dict:
        """External selects are answered with the bot's own options ({value, text})."""
        out = dict(values)
        for block in view.get("blocks") or []:
            element = block.get("element") or {}
            block_id = block.get("block_id")
            if not element.get("type", "").endswith("external_select") or block_id not in out:
                continue
            wanted = out[block_id]
            many = isinstance(wanted, list)
            options = {o.get("value"): o for o in self.suggest(user, view, block_id)}
            chosen = []
            for value in wanted if many else [wanted]:
                if isinstance(value, dict):
                    chosen.append(value)
                elif value in options:
                    chosen.append(options[value])
                else:
                    raise StageError(f"{value} is not offered in {block_id}")
            out[block_id] = chosen if many else chosen[0]
        return out

    # --- looking around ----------------------------------------------------------------------

    def messages(self, conversation: str) -> list[dict]:
        return self.slack.messages(conversation)

    def message_with(self, conversation: str, *needles: str, action_id: str | None = None) -> dict:
        """The newest message in `conversation` that contains every needle (and the action)."""
        for message in reversed(self.slack.messages(conversation)):
            dumped = json.dumps(message, ensure_ascii=False)
            if all(n in dumped for n in needles) and (
                action_id is None or f'"action_id": "{action_id}"' in dumped
            ):
                return message
        raise StageError(f"no message in {conversation} with {needles} {action_id or ''}")

    def last_modal(self, user: str) -> dict:
        """The modal `user` has in front of them now: the latest opened, pushed or updated
        (through the Web API, or as the answer to a submission)."""
        for entry in reversed(self.recorder.entries):
            if entry.user != user or entry.kind not in (Kind.modal, Kind.modal_update):
                continue
            held = next((v for v in self.slack.views_opened() if v["id"] == entry.view_id), None)
            if held is not None and (entry.kind is Kind.modal or _same_blocks(held, entry.view)):
                return held
            return {**(entry.view or {}), "id": entry.view_id}
        raise StageError(f"no modal was opened for {user}")

    def home(self, user: str) -> dict:
        view = self.slack.home_views(user)
        if view is None:
            raise StageError(f"{user} has no Home tab yet")
        return view


def _same_blocks(a: dict, b: dict | None) -> bool:
    return (a or {}).get("blocks") == (b or {}).get("blocks")


def _json(answer: Answer) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {"text": answer.text}
    return body if isinstance(body, dict) else {}


def _elements(block: dict) -> list[dict]:
    found = list(block.get("elements") or [])
    if block.get("accessory"):
        found.append(block["accessory"])
    if block.get("element"):
        found.append(block["element"])
    return found


def _find_element(where: dict, action_id: str, *, value: str | None = None) -> tuple[dict, dict]:
    for block in where.get("blocks") or []:
        for element in _elements(block):
            if element.get("action_id") != action_id:
                continue
            if value is not None and element.get("value") != value:
                continue
            return block, element
    raise StageError(f"no {action_id} ({value}) here")


def _options(element: dict) -> list[dict]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found += group.get("options") or []
    return found


def _label(element: dict) -> str:
    return ((element.get("text") or {}).get("text")) or element.get("action_id", "")


def initial_values(view: dict) -> dict:
    """{block_id: value} of the inputs the bot filled in beforehand (initial_…)."""
    found: dict = {}
    for block in view.get("blocks") or []:
        element = block.get("element") or {}
        if block.get("type") != "input":
            continue
        if element.get("initial_value") is not None:
            value = element["initial_value"]
        elif element.get("initial_option"):
            value = element["initial_option"].get("value")
        elif element.get("initial_options"):
            value = [o.get("value") for o in element["initial_options"]]
        elif element.get("initial_date"):
            value = element["initial_date"]
        elif element.get("initial_time"):
            value = element["initial_time"]
        elif element.get("initial_users"):
            value = list(element["initial_users"])
        elif element.get("initial_user"):
            value = element["initial_user"]
        else:
            continue
        found[block["block_id"]] = value
    return found


def state_for(view: dict, values: dict) -> dict:
    """Slack's view.state.values for {block_id: value}, shaped by each input's element."""
    state: dict = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or block.get("block_id") not in values:
            continue
        element = block["element"]
        value = values[block["block_id"]]
        kind = element["type"]
        options = {o.get("value"): o for o in _options(element)}
        if kind.endswith("external_select"):  # already {value, text} (see _with_suggested)
            picked = value if isinstance(value, list) else [value]
            options = {o.get("value"): o for o in picked if isinstance(o, dict)}
            value = (
                [o.get("value") for o in picked]
                if isinstance(value, list)
                else (picked[0].get("value") if picked and picked[0] else None)
            )
        if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            entry = {"type": kind, "value": value}
        elif kind in ("static_select", "radio_buttons", "external_select"):
            entry = {"type": kind, "selected_option": options.get(value) if value else None}
            if value and entry["selected_option"] is None:
                raise StageError(f"{value} is not an option of {block['block_id']}")
        elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
            entry = {"type": kind, "selected_options": [options[v] for v in value]}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": value}
        elif kind == "timepicker":
            entry = {"type": kind, "selected_time": value}
        elif kind in ("users_select",):
            entry = {"type": kind, "selected_user": value}
        elif kind in ("multi_users_select",):
            entry = {"type": kind, "selected_users": list(value)}
        elif kind in ("conversations_select", "channels_select"):
            entry = {"type": kind, f"selected_{kind.split('_')[0][:-1]}": value}
        else:
            raise StageError(f"the demo cannot fill in a {kind}")
        state[block["block_id"]] = {element["action_id"]: entry}
    return state
