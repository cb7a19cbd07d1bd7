"""A form's answer reaches the person within Slack's 3 seconds, however long the work takes.

A view submission is answered by ack() (errors on fields, or the next screen) once the work that
decides it is done. A stalled disk or a slow database can make that work outlast the 3 seconds
Slack waits; the person would then see Slack's own failure and not know whether anything was
stored. So every submission's `ack` is a `TimelyAnswer`: if no answer was given ANSWER_WITHIN
seconds after the request arrived, the form is replaced by a 「処理しています」 screen (in time),
the work carries on in its own transaction, and its answer takes that screen's place through
`views.update` when it comes. Nothing is stored twice and nothing is half-stored: the work's
transaction is the same either way. HTTP and Socket Mode alike (a middleware, before any
listener). Every other listener's `ack` is an `Acknowledgement`: an answer once given stays given.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.common import slots
from handlers.common.blocks import notice_modal
from handlers.common.texts import t

log = logging.getLogger("tsunagi.handlers")

# Slack waits 3 s for the answer; the way back to Slack takes some of it.
ANSWER_WITHIN = 2.0
# The 「処理しています」 screen travels back with the HTTP answer (or the Socket Mode envelope)
# while the late answer goes by its own API call: it waits this long after the first, so Slack
# does not show the late answer and then the interim screen over it.
SETTLE = 0.5
# The watchdog looks at most this often: deadlines close together are handled in one look.
BATCH = 0.05


def _title(view: dict) -> str:
    return ((view.get("title") or {}).get("text") or t("form.working_title"))[:24]


def late_screen(title: str, answer: dict) -> dict:
    """What the screen shows when the work's answer comes after the interim screen: the next
    screen it chose, its field errors as a list, or that it is done."""
    action = answer.get("response_action")
    if action in ("update", "push") and answer.get("view") is not None:
        view = answer["view"]
        return view.to_dict() if hasattr(view, "to_dict") else view
    if action == "errors":
        texts = list((answer.get("errors") or {}).values())
        if t("error.busy_form") in texts:  # the form is gone: its "input kept" is not true here
            return notice_modal(title, t("error.busy")).to_dict()
        items = "\n".join(f"• {text}" for text in texts)
        return notice_modal(title, t("form.late_errors", errors=items)).to_dict()
    return notice_modal(title, t("form.late_done")).to_dict()


class Acknowledgement:
    """The `ack` every listener receives: Bolt's, whose answer, once given, stays given.

    Bolt's listener runner, when a listener fails after it acknowledged, sets the answer back to
    None while its request thread may not yet have read it; that thread then waits out the 3
    seconds and answers Slack "unhandled request" (seen on a busy machine). The answer given
    first is what Slack gets."""

    def __init__(self, ack) -> None:
        self._ack = ack

    def __call__(self, *args, **kwargs):
        answer = self._ack(*args, **kwargs)
        slots.acknowledged()  # its work after the answer goes in turns (slots.py)
        return answer

    @property
    def response(self):  # Bolt's listener runner looks here for the acknowledgement
        return self._ack.response

    @response.setter
    def response(self, value) -> None:  # Bolt sets it when a listener fails
        if value is None and self._ack.response is not None:
            return
        self._ack.response = value


class TimelyAnswer(Acknowledgement):
    """The `ack` a view submission's listener receives: the first answer is the acknowledgement;
    once the interim screen went out instead, a later answer replaces it by `views.update`."""

    def __init__(self, ack, client: WebClient, view: dict) -> None:
        super().__init__(ack)
        self._client = client
        self._view_id = view.get("id")
        self.title = _title(view)
        self._lock = threading.Lock()
        self._given = False
        self._interim_at: float | None = None

    @property
    def late(self) -> bool:
        return self._interim_at is not None

    def __call__(self, *args, **kwargs):
        with self._lock:
            first, self._given = not self._given, True
        if first:
            return self._ack(*args, **kwargs)
        if self.late:
            self.show(late_screen(self.title, kwargs))
        return self._ack.response

    def interim(self) -> None:
        """No answer yet and time is running out: the 「処理しています」 screen, now."""
        with self._lock:
            if self._given:
                return
            self._given = True
            self._interim_at = time.monotonic()
        body = t("form.working")
        self._ack(response_action="update", view=notice_modal(self.title, body))

    def show(self, view: dict) -> None:
        """Put `view` in place of the interim screen."""
        if self._interim_at is None:
            return
        time.sleep(max(0.0, self._interim_at + SETTLE - time.monotonic()))
        try:
            self._client.views_update(view_id=self._view_id, view=view)
        except SlackApiError as exc:  # closed meanwhile: the notices tell the rest
            log.info("could not show a late answer: %s", exc.response.get("error"))


class _Watchdog:
    """One thread that gives the interim screen to the answers not given by their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, TimelyAnswer]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, answer: TimelyAnswer, deadline: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._order), answer))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tsunagi-timely", daemon=True
                )
                self._thread.start()
            # Woken only for a new earliest deadline: a wake-up per form would take the
            # interpreter from the requests being answered (`tsunagi bench`).
            if self._heap[0][2] is answer:
                self._cond.notify()

    def _due(self) -> list[TimelyAnswer]:
        with self._cond:
            while True:
                while not self._heap:
                    self._cond.wait()
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    break
                self._cond.wait(max(wait, BATCH))
            due = []
            now = time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap)[2])
            return due

    def _run(self) -> None:
        while True:
            for answer in self._due():  # nearly all were answered long ago: nothing to do
                try:
                    answer.interim()
                except Exception as exc:  # the watchdog must outlive one broken answer
                    log.warning("could not give the interim screen (%s)", type(exc).__name__)


_watchdog = _Watchdog()


def answer_in_time(body, context, next):
    """Middleware: every listener's `ack` is an Acknowledgement; a view submission's a
    TimelyAnswer."""
    if isinstance(body, dict) and body.get("type") == "view_submission":
        answer = TimelyAnswer(context.ack, context.client, body.get("view") or {})
        context["ack"] = answer
        if ANSWER_WITHIN <= 0:
            answer.interim()
        else:
            _watchdog.watch(answer, time.monotonic() + ANSWER_WITHIN)
    elif context.ack is not None:
        context["ack"] = Acknowledgement(context.ack)
    return next()


def told_late(context: dict | None, text: str) -> bool:
    """For the error handler: if the interim screen is showing, put `text` in its place."""
    answer = (context or {}).get("ack")
    if not isinstance(answer, TimelyAnswer) or not answer.late:
        return False
    answer.show(notice_modal(answer.title, text).to_dict())
    return True
