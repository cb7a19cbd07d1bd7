"""The Slack Web API client, pointed at Slack or at a local stand-in (SLACK_API_URL).

slack_sdk's WebClient opens a new connection (DNS, TCP and TLS) for every call. Each thread of
tsunagi keeps its own connection to Slack open instead and reuses it: a modal opens after one
round trip to Slack, not three, and the town hall's server does not repeat the TLS handshake
for every card it posts.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
import urllib.request
from urllib.error import HTTPError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# A connection idle for longer than this is not reused: servers close idle connections (at a
# time they do not announce), and a request sent on a closed one fails ambiguously.
IDLE_LIMIT = 15.0


class _Quick:
    """http.client writes the headers and the body separately; on a kept connection Nagle's
    algorithm would hold the body back until the headers are acknowledged (up to 40 ms)."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _HTTP(_Quick, http.client.HTTPConnection):
    pass


class _HTTPS(_Quick, http.client.HTTPSConnection):
    pass


class KeepAliveClient(WebClient):
    """A WebClient whose calls reuse one HTTP(S) connection per thread (proxies: as before).

    A failed call is never sent again here: slack_sdk's retry handlers decide that, and the
    delivery loop (which has none) checks Slack's history before sending a message again.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        kept = getattr(self._local, "connections", None)
        if kept is None:
            kept = self._local.connections = {}
        conn, used = kept.get((scheme, netloc), (None, 0.0))
        if conn is not None and time.monotonic() - used > IDLE_LIMIT:
            conn.close()
            conn = None
        if conn is None:
            if scheme == "https":
                conn = _HTTPS(netloc, timeout=self.timeout, context=self.ssl)
            else:
                conn = _HTTP(netloc, timeout=self.timeout)
        kept[(scheme, netloc)] = (conn, time.monotonic())
        return conn

    def _forget(self, scheme: str, netloc: str) -> None:
        conn, _ = self._local.connections.pop((scheme, netloc), (None, 0.0))
        if conn is not None:
            conn.close()

    def _perform_urllib_http_request_internal(
        self, url: str, req: urllib.request.Request
    ) -> dict[str, object]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn = self._connection(parts.scheme, parts.netloc)
        try:
            conn.request(req.get_method(), path, body=req.data, headers=dict(req.header_items()))
            resp = conn.getresponse()
            body = resp.read()
        except Exception:
            self._forget(parts.scheme, parts.netloc)  # closed, reset or timed out: unusable
            raise
        if resp.will_close:
            self._forget(parts.scheme, parts.netloc)
        if resp.status >= 400:  # as urllib does: slack_sdk's retry handlers expect it
            raise HTTPError(url, resp.status, resp.reason, resp.headers, io.BytesIO(body))
        if resp.headers.get_content_type() == "application/gzip":
            return {"status": resp.status, "headers": resp.headers, "body": body}
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": resp.headers, "body": body.decode(charset)}


def make_client(token: str | None, base_url: str, *, retries: bool = True) -> WebClient:
    """`retries=False` for the delivery loop, which keeps its own durable retry schedule."""
    client = KeepAliveClient(token=token, base_url=base_url, timeout=10)
    if not retries:
        client.retry_handlers.clear()
    return client


class TokenRefused(Exception):
    """Slack refused a token: which variable holds it, and what Slack answered."""

    def __init__(self, variable: str, error: str) -> None:
        super().__init__(f"{variable}: {error}")
        self.variable = variable
        self.error = error


def check_tokens(bot_token: str, app_token: str | None, base_url: str) -> dict:
    """Ask Slack about each token once: `auth.test` with the bot token and, when an app-level
    token is set, `apps.connections.open` (the call Socket Mode starts with; the URL it answers
    is simply not used). Returns what auth.test said; raises TokenRefused, or the network's own
    error when Slack cannot be reached."""
    try:
        auth = make_client(bot_token, base_url).auth_test()
    except SlackApiError as exc:
        raise TokenRefused("SLACK_BOT_TOKEN", str(exc.response.get("error"))) from None
    if app_token:
        try:
            make_client(app_token, base_url).apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise TokenRefused("SLACK_APP_TOKEN", str(exc.response.get("error"))) from None
    return dict(auth.data) if isinstance(auth.data, dict) else {}
