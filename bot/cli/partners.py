"""Partners from other organisations on the command line:

- `tsunagi door post [--agency KEY]`: post or update the pinned door in each partner agency's
  channel (idempotent: an unchanged door is left alone, a changed one edited in place);
- `print_check`: the part of `tsunagi check` (and of `tsunagi org load`) about other
  organisations — members from other workspaces and the channels each depends on, and the case
  channels (coordinator, windows) that must not be shared with another organisation;
- `warn_after_load`: after `tsunagi org load`, a warning for each case channel shared with another
  organisation (only when a bot token is set; Slack out of reach is one line, never a failure).
"""

from __future__ import annotations

import http.client

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.cli.common import Stop, command, open_database
from bot.settings import Settings
from bot.slack import make_client
from handlers.common.texts import t
from handlers.partners.doors import DoorsBusy, sync_doors
from models.base import crypto
from models.base.db import transaction
from models.org.doors import case_channels, door_agencies, members_from_elsewhere
from models.org.tables import Agency

LOAD_TIMEOUT = 5  # seconds per call after `tsunagi org load`: the load is done, this is a check


def register(sub) -> None:
    door = sub.add_parser("door", help=t("partners_cli.help")).add_subparsers(
        dest="door_command", required=True
    )
    post = door.add_parser("post", help=t("partners_cli.post_help"))
    post.add_argument("--agency", metavar="KEY", help=t("partners_cli.agency_help"))
    post.set_defaults(func=cmd_door_post)


@command
def cmd_door_post(args, settings: Settings) -> int:
    crypto.configure(settings.encryption_keys)
    engine = open_database(settings)
    if args.agency:
        with transaction(engine, write=False) as session:
            if not door_agencies(session, args.agency):
                raise Stop(t("partners_cli.no_such_agency", key=args.agency))
    client = make_client(settings.bot_token, settings.slack_api_url)
    try:
        outcomes = sync_doors(engine, client, agency_key=args.agency)
    except DoorsBusy:  # the bot's worker is keeping them right now
        raise Stop(t("partners_cli.doors_busy"), 1) from None
    for o in outcomes:
        print(t(f"partners_cli.door_{o.result}", agency=o.agency, channel=o.channel, error=o.error))
    if not outcomes:
        print(t("partners_cli.no_doors"))
    return 1 if any(o.result == "failed" for o in outcomes) else 0


def print_check(engine: Engine, client: WebClient | None, *, quiet: bool = False) -> int:
    """Print what concerns other organisations; returns the number of problems (a case channel
    shared with another organisation). `quiet`: only what is wrong or unknown."""
    with transaction(engine, write=False) as session:
        elsewhere = [(m.team, m.enterprise, a) for m, a in members_from_elsewhere(session)]
        protected = case_channels(session)
        doors = {a.key: a.channel for a in door_agencies(session)}
    problems = 0
    lines: list[str] = []
    for channel, what in protected.items():
        try:
            shared = _externally_shared(client, channel)
        except Unreachable:  # said once, not once per channel
            lines.append(t("partners_cli.slack_unreachable"))
            break
        if shared:
            problems += 1
            lines.append(t("partners_cli.case_channel_shared", channel=channel, what=what))
        elif shared is None:
            lines.append(t("partners_cli.case_channel_unknown", channel=channel, what=what))
        elif not quiet:
            lines.append(t("partners_cli.case_channel_inside", channel=channel, what=what))
    teams: dict[tuple[str, str | None, str], tuple[Agency, int]] = {}
    for team, enterprise, agency in elsewhere:
        key = (team, enterprise, agency.key)
        teams[key] = (agency, teams.get(key, (agency, 0))[1] + 1)
    if not quiet:
        for (team, enterprise, _), (agency, count) in teams.items():
            lines.append(
                t(
                    "partners_cli.members_elsewhere",
                    agency=agency.name,
                    team=team,
                    enterprise=enterprise or "-",
                    count=count,
                    channel=doors.get(agency.key) or agency.channel or "-",
                )
            )
        if not teams:
            lines.append(t("partners_cli.no_members_elsewhere"))
    if lines:
        print(t("partners_cli.heading"))
        for line in lines:
            print(f"  {line}")
    return problems


class Unreachable(Exception):
    """Slack did not answer at all (network, DNS, TLS, a timeout)."""


def _externally_shared(client: WebClient | None, channel: str) -> bool | None:
    if client is None:
        return None
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError:
        return None  # the channel checks of `tsunagi check` name the reason
    except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
        raise Unreachable(type(exc).__name__) from exc
    return bool(info.get("is_ext_shared"))


def warn_after_load(settings: Settings, engine: Engine) -> int:
    """After `tsunagi org load`: a warning for each case channel (the coordinator's, a window's)
    shared with another organisation; the load stands either way. Slack is asked only when a bot
    token is set (SLACK_API_URL decides where: the stand-in in tests), once per channel, without
    retries; when it cannot be reached, one line says so. Returns the number of warnings."""
    if not settings.bot_token:
        return 0
    client = make_client(settings.bot_token, settings.slack_api_url, retries=False)
    client.timeout = LOAD_TIMEOUT
    return print_check(engine, client, quiet=True)


def check_settings(settings: Settings, *, quiet: bool = False) -> int:
    """For `tsunagi check` and `tsunagi org load`: open what is needed and print the part about
    other organisations; 0 when the database or Slack cannot be used (reported elsewhere)."""
    if settings is None or not getattr(settings, "database_url", None):
        return 0
    try:
        engine = open_database(settings)
    except Stop:
        return 0
    client = make_client(settings.bot_token, settings.slack_api_url) if settings.bot_token else None
    try:
        return print_check(engine, client, quiet=quiet)
    finally:
        engine.dispose()
