"""Settings from the environment (the README lists them), each checked when a command starts.

`read()` checks every variable against `Environment` (pydantic) and answers the settings plus one
problem per bad variable — its name, what is wrong with the value and an example, in Japanese
(`problem_line`); a bad variable is left at its default so `tsunagi check` can still look at
the rest. Secrets (tokens, keys, the database URL with its password) are never repeated back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NamedTuple
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from handlers.common.texts import t
from models.base.db import normalise_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///tsunagi.db"
DEFAULT_SOCKET_ALERT_SECONDS = 300.0  # the admins hear of a dead socket after 5 minutes


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    encryption_keys: list[str] = field(default_factory=list)  # first encrypts, all decrypt
    channel_interval: float = 1.0  # seconds between two messages to one channel (Slack's pace)
    health_port: int | None = None  # Socket Mode's /healthz on 127.0.0.1 (None: off)
    socket_alert_after: float = DEFAULT_SOCKET_ALERT_SECONDS  # down this long: the admins' DM
    org_file: str | None = None  # what `make run` loads before starting

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings; raises SettingsError when a variable is malformed."""
        settings, problems = read(env)
        if problems:
            raise SettingsError(problems)
        return settings

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


class SettingProblem(NamedTuple):
    name: str  # the variable
    code: str  # under settings.problem in handlers/common/locale/ja/cli.toml
    params: dict


class SettingsError(ValueError):
    def __init__(self, problems: list[SettingProblem]) -> None:
        super().__init__(", ".join(p.name for p in problems))
        self.problems = problems


def problem_line(problem: SettingProblem) -> str:
    """One line: the variable, what is wrong, an example."""
    return t(
        "settings.line",
        name=problem.name,
        problem=t(f"settings.problem.{problem.code}", **problem.params),
        example=t(f"settings.example.{problem.name}"),
    )


# --------------------------------------------------------------------------- the checks


def _bad(code: str, **params: Any) -> PydanticCustomError:
    return PydanticCustomError(code, code, params)


def _blank_is_none(value: object) -> object:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _plain(value: str) -> str:
    """Pasted values often bring quotes or spaces along; Slack would refuse them anyway."""
    if value != value.strip() or value[:1] in "\"'" or any(c.isspace() for c in value):
        raise _bad("spaces")
    return value


def _token(prefix: str):
    def check(value: str) -> str:
        _plain(value)
        if not value.startswith(prefix):
            # Another kind of Slack token is named by its prefix only (nothing of the secret).
            found = re.match(r"x[a-z]{3}-", value)
            if found:
                raise _bad("token_kind", prefix=prefix, found=found.group())
            raise _bad("token_prefix", prefix=prefix)
        return value

    return check


def _fernet(value: str) -> str:
    for key in (k.strip() for k in value.split(",")):
        if not key:
            continue
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise _bad("not_fernet") from None
    return value


def _database_url(value: str) -> str:
    try:
        url = make_url(normalise_url(value))
    except ArgumentError:
        raise _bad("database_url_form") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise _bad("database_url_kind", kind=url.get_backend_name())
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad("not_http_url", value=value)
    return value if value.endswith("/") else value + "/"


def _number(low: float, high: float):
    def check(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise _bad("not_number", value=value) from None
        if not low <= number <= high:
            raise _bad("out_of_range", value=value, low=f"{low:g}", high=f"{high:g}")
        return number

    return check


def _port(value: str) -> int:
    if not value.strip().isdigit() or not 0 < int(value) < 65536:
        raise _bad("not_port", value=value)
    return int(value)


def _existing_file(value: str) -> str:
    if not Path(value).is_file():
        raise _bad("no_such_file", value=value)
    return value


def _then(check):
    return AfterValidator(lambda v: None if v is None else check(v))


_Unset = BeforeValidator(_blank_is_none)
BotToken = Annotated[str | None, _Unset, _then(_token("xoxb-"))]
AppToken = Annotated[str | None, _Unset, _then(_token("xapp-"))]
Plain = Annotated[str | None, _Unset, _then(_plain)]
HttpUrl = Annotated[str | None, _Unset, _then(_http_url)]
DatabaseUrl = Annotated[str | None, _Unset, _then(_database_url)]
Key = Annotated[str | None, _Unset, _then(_plain), _then(_fernet)]
Keys = Annotated[str | None, _Unset, _then(_fernet)]
Interval = Annotated[Any, _Unset, _then(_number(0, 60))]
Lease = Annotated[Any, _Unset, _then(_number(0.2, 3600))]
AlertAfter = Annotated[Any, _Unset, _then(_number(1, 86400))]
Port = Annotated[Any, _Unset, _then(_port)]
ExistingFile = Annotated[str | None, _Unset, _then(_existing_file)]


class Environment(BaseModel):
    """Every variable tsunagi reads (empty = not set)."""

    model_config = ConfigDict(extra="ignore")

    SLACK_BOT_TOKEN: BotToken = None
    SLACK_APP_TOKEN: AppToken = None
    SLACK_SIGNING_SECRET: Plain = None
    SLACK_API_URL: HttpUrl = None
    TSUNAGI_DATABASE_URL: DatabaseUrl = None
    TSUNAGI_ENCRYPTION_KEY: Key = None
    TSUNAGI_OLD_ENCRYPTION_KEYS: Keys = None
    TSUNAGI_CHANNEL_INTERVAL: Interval = None
    TSUNAGI_LEASE_SECONDS: Lease = None  # read in models/queues/lease.py
    TSUNAGI_HEALTH_PORT: Port = None
    TSUNAGI_SOCKET_ALERT_SECONDS: AlertAfter = None
    TSUNAGI_ORG_FILE: ExistingFile = None


NAMES = tuple(Environment.model_fields)


def read(env: Mapping[str, str] | None = None) -> tuple[Settings, list[SettingProblem]]:
    """The settings (a bad variable left at its default) and what is wrong, one per variable."""
    env = os.environ if env is None else env
    values = {name: env.get(name) for name in NAMES}
    problems: list[SettingProblem] = []
    try:
        Environment.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0])
            if name not in {p.name for p in problems}:
                problems.append(SettingProblem(name, error["type"], dict(error.get("ctx") or {})))
    bad = {p.name for p in problems}
    parsed = Environment.model_validate({k: v for k, v in values.items() if k not in bad})
    # A malformed URL is not replaced by the default: nothing may open (and create) that file.
    database_url = "" if "TSUNAGI_DATABASE_URL" in bad else DEFAULT_DATABASE_URL
    keys = [parsed.TSUNAGI_ENCRYPTION_KEY or ""]
    keys += (parsed.TSUNAGI_OLD_ENCRYPTION_KEYS or "").split(",")
    settings = Settings(
        bot_token=parsed.SLACK_BOT_TOKEN,
        signing_secret=parsed.SLACK_SIGNING_SECRET,
        app_token=parsed.SLACK_APP_TOKEN,
        slack_api_url=parsed.SLACK_API_URL or DEFAULT_SLACK_API_URL,
        database_url=parsed.TSUNAGI_DATABASE_URL or database_url,
        # Old keys only read, and only beside a current key: without one nothing is usable.
        encryption_keys=[k.strip() for k in keys if k.strip()] if keys[0].strip() else [],
        channel_interval=_or(parsed.TSUNAGI_CHANNEL_INTERVAL, 1.0),
        health_port=parsed.TSUNAGI_HEALTH_PORT,
        socket_alert_after=_or(parsed.TSUNAGI_SOCKET_ALERT_SECONDS, DEFAULT_SOCKET_ALERT_SECONDS),
        org_file=parsed.TSUNAGI_ORG_FILE,
    )
    return settings, problems


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
