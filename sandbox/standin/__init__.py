"""A strict local stand-in for the Slack Web API, for end-to-end tests, demos and benchmarks."""

from .server import Call, SlackStandin

__all__ = ["Call", "SlackStandin"]
