"""Log lines without personal data, whoever writes them (slack_bolt, slack_sdk, waitress, urllib3…).

Installed as the process's log-record factory, so every record is made safe when it is created:
before any handler, formatter or test capture sees it. Two rules:
- a library's line that may hold a request body, a view or a person's text (braces, `payload=`,
  non-ASCII text, or simply long) keeps only its leading words and the count of what was withheld;
- a traceback keeps its frames and the exception's type; the exception's message and locals are
  dropped (a message may quote user input).
The project's own loggers (`tsunagi.*`) log receipt numbers and counts only, and pass as written.
"""

from __future__ import annotations

import logging
import re
import traceback

OWN_PREFIX = "tsunagi"
MAX_LIBRARY_LINE = 300
_BODY_HINTS = ("{", "[", "payload", "%7b", "state", "body", "text=", "view")
_PREFIX_END = re.compile(r"[({\[:=,]")
_installed = False


def withhold(message: str) -> str:
    """The line's leading words (ASCII, up to the first bracket or colon) and what was withheld."""
    head = _PREFIX_END.split(message, maxsplit=1)[0].strip()[:80]
    if not head.isascii():
        head = ""
    return f"{head or 'log line'} [{len(message)} characters withheld: may hold request data]"


def _unsafe(message: str) -> bool:
    lowered = message.lower()
    return (
        len(message) > MAX_LIBRARY_LINE
        or not message.isascii()
        or any(hint in lowered for hint in _BODY_HINTS)
    )


def frames_only(exc_info) -> str:
    """A traceback without the exception's message: frames and the type's name."""
    kind, _value, tb = exc_info
    frames = "".join(traceback.format_tb(tb))
    return f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}"


def make_safe(record: logging.LogRecord) -> logging.LogRecord:
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = frames_only(record.exc_info)
        record.exc_info = None
    record.stack_info = None
    if record.name == OWN_PREFIX or record.name.startswith(OWN_PREFIX + "."):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: its arguments are not shown either
        message = str(record.msg)
    if _unsafe(message):
        record.msg, record.args = withhold(message), ()
    return record


def install() -> None:
    """Make every record of this process safe at creation (idempotent)."""
    global _installed
    if _installed:
        return
    base = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return make_safe(base(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


def configure(level: int = logging.INFO) -> None:
    """The logging of `tsunagi run`: one line per record on stderr, made safe first."""
    install()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # waitress warns "Task queue depth is N" whenever more requests wait than it has threads:
    # under a burst, a line per request, which costs the CPU the people are waiting for (4% of
    # it in `tsunagi bench`) and buries the lines an IT officer needs. Overload shows in /healthz
    # and in the answers' times; real waitress errors still go to the log.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
