"""The Slack Web API client, pointed at Slack or at a local stand-in (SLACK_API_URL)."""

from __future__ import annotations

from slack_sdk import WebClient


def make_client(token: str | None, base_url: str, *, retries: bool = True) -> WebClient:
    """`retries=False` for the delivery loop, which keeps its own durable retry schedule."""
    client = WebClient(token=token, base_url=base_url, timeout=10)
    if not retries:
        client.retry_handlers.clear()
    return client
