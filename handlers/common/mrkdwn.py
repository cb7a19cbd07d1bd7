"""The one escape for user text entering mrkdwn, so `<!channel>` typed in a form pings nobody."""

from __future__ import annotations


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
