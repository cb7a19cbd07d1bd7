"""HTTP mode: Slack's requests at /slack/events, served by waitress (a production WSGI server)."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

EVENTS_PATH = "/slack/events"


def wsgi_app(app: App):
    bolt = SlackRequestHandler(app)

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return bolt(environ, start_response)
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]

    return application


def make_server(app: App, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 8):
    """A waitress server; `.run()` serves until `.close()`. port=0 picks a free port."""
    return create_server(wsgi_app(app), host=host, port=port, threads=threads, ident="tsunagi")
