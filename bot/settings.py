"""Settings from the environment (the README lists them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///tsunagi.db"


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    encryption_keys: list[str] = field(default_factory=list)  # first encrypts, all decrypt
    channel_interval: float = 1.0  # seconds between two messages to one channel (Slack's pace)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        keys = [env.get("TSUNAGI_ENCRYPTION_KEY", "")]
        keys += env.get("TSUNAGI_OLD_ENCRYPTION_KEYS", "").split(",")
        api = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api if api.endswith("/") else api + "/",
            database_url=env.get("TSUNAGI_DATABASE_URL") or DEFAULT_DATABASE_URL,
            # Old keys only read, and only beside a current key: without one nothing is usable.
            encryption_keys=[k.strip() for k in keys if k.strip()] if keys[0].strip() else [],
            channel_interval=float(env.get("TSUNAGI_CHANNEL_INTERVAL", "1.0")),
        )

    def missing_for_run(self, *, http: bool) -> list[str]:
        """The variables `tsunagi run` still needs."""
        missing = []
        if not self.bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if http and not self.signing_secret:
            missing.append("SLACK_SIGNING_SECRET")
        if not http and not self.app_token:
            missing.append("SLACK_APP_TOKEN")
        if not self.encryption_keys:
            missing.append("TSUNAGI_ENCRYPTION_KEY")
        return missing
