"""The yardstick: a bare Bolt app that only acks the same requests, served the same way."""

from __future__ import annotations

import sys

from slack_bolt import App
from slack_sdk import WebClient

from bot.server import make_server
from handlers import ids


def bare_app(*, signing_secret: str, token: str, api_url: str) -> App:
    app = App(
        client=WebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        # Served through the same front door as tsunagi (bot/server.py), which checks the
        # signature once already: both apps do the same work before their listener.
        request_verification_enabled=False,
    )
    app.command(ids.COMMAND)(lambda ack: ack())
    app.view(ids.VIEW_MEMO)(lambda ack: ack())
    app.shortcut(ids.SHORTCUT_MEMO)(lambda ack: ack())
    app.shortcut(ids.SHORTCUT_MEMO_FROM_MESSAGE)(lambda ack: ack())
    app.event("app_home_opened")(lambda ack: ack())
    return app


def main() -> int:
    port, secret, token, api_url, threads = sys.argv[1:6]
    app = bare_app(signing_secret=secret, token=token, api_url=api_url)
    server = make_server(app, host="127.0.0.1", port=int(port), threads=int(threads))
    print(server.effective_port, flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
