"""The yardstick: a bare Bolt app that only acks the same requests.

Bare means as the Bolt documentation sets one up: Bolt checks the signature and parses the body
itself, behind the same WSGI server (waitress, with its default of 4 threads, which is also
`tsunagi run`'s). tsunagi's own front door (bot/door.py) is part of what is measured against it.
"""

from __future__ import annotations

import sys

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress.server import create_server

from handlers.common import ids


def bare_app(*, signing_secret: str, token: str, api_url: str) -> App:
    app = App(
        client=WebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        token_verification_enabled=False,
    )
    app.command(ids.COMMAND)(lambda ack: ack())
    app.view(ids.VIEW_MEMO)(lambda ack: ack())
    app.shortcut(ids.SHORTCUT_MEMO)(lambda ack: ack())
    app.shortcut(ids.SHORTCUT_MEMO_FROM_MESSAGE)(lambda ack: ack())
    app.event("app_home_opened")(lambda ack: ack())
    app.action(ids.ACTION_CASE_ACKNOWLEDGE)(lambda ack: ack())
    return app


def main() -> int:
    port, secret, token, api_url = sys.argv[1:5]
    app = bare_app(signing_secret=secret, token=token, api_url=api_url)
    server = create_server(SlackRequestHandler(app), host="127.0.0.1", port=int(port))
    print(server.effective_port, flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
