"""Run the Slack stand-in in its own process: `python -m bot.standin` prints its API URL.

Control it over HTTP: POST /_standin/setup {"channels": [...], "users": [...]},
POST /_standin/trigger -> {"trigger_id": ...}, GET /_standin/counts -> calls per method.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

from sandbox.standin.server import SlackStandin


def main() -> int:
    token = sys.argv[1] if len(sys.argv) > 1 else "xoxb-test-token"
    standin = SlackStandin(token=token).start()
    print(standin.base_url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
