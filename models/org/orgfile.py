"""Load the organisation file (TOML) into the database: validated whole, applied in one go."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlmodel import Session, select

from models.org import schema
from models.org.roster import put_setting
from models.org.tables import Agency, AgencyKind, Domain, Member, Role
from models.outreach.dates import settings_problems as outreach_settings_problems
from models.queues.reminder_settings import settings_problems as reminder_settings_problems

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
SLACK_TEAM = re.compile(r"^T[A-Z0-9]{2,}$")  # a member's home workspace (Slack Connect)
SLACK_ENTERPRISE = re.compile(r"^E[A-Z0-9]{2,}$")  # its Enterprise Grid organisation
AGENCY_KEY = re.compile(r"^[a-z0-9_\-]{1,64}$")
KNOWN_CHANNELS = ("coordinator", "linknet", "admin")
TOWN_KEYS = ("name", "timezone", "office_hours", "year_end_closing")


@dataclass(frozen=True)
class Problem:
    line: int | None
    code: str  # a message code under "orgfile." in handlers/locale
    params: dict


class OrgFileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the organisation file")
        self.problems = problems


@dataclass(frozen=True)
class LoadResult:
    agencies: int
    members: int
    deactivated_agencies: int
    deactivated_members: int


class _Lines:
    """Finds the line of the n-th `[[table]]` entry, or of a key inside it, for error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _headers(self, table: str) -> list[int]:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        return [i for i, line in enumerate(self.lines) if pattern.match(line)]

    def entry(self, table: str, index: int, key: str | None = None) -> int | None:
        headers = self._headers(table)
        if index >= len(headers):
            return None
        start = headers[index]
        if key is None:
            return start + 1
        key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start + 1, len(self.lines)):
            if self.lines[i].lstrip().startswith("["):
                break
            if key_line.match(self.lines[i]):
                return i + 1
        return start + 1

    def table(self, table: str, key: str | None = None) -> int | None:
        pattern = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        for i, line in enumerate(self.lines):
            if pattern.match(line):
                if key is None:
                    return i + 1
                key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
                for j in range(i + 1, len(self.lines)):
                    if self.lines[j].lstrip().startswith("["):
                        break
                    if key_line.match(self.lines[j]):
                        return j + 1
                return i + 1
        return None


def parse(text: str) -> dict:
    """Parse and validate; raise OrgFileError listing every problem with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            found = re.search(r"line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
        raise OrgFileError([Problem(line, "toml_syntax", {"detail": str(exc)})]) from exc
    # The names first (models/org/schema.py): an unknown section or key is refused with the
    # nearest valid name; the value rules then run on what is left, so every problem is listed.
    shape = schema.check(data, text)
    problems = [Problem(p.line, p.code, p.params) for p in shape.problems]
    if not shape.broken:
        problems += _validate(shape.data, _Lines(text))
    if problems:
        raise OrgFileError(problems)
    return data


def _validate(data: dict, lines: _Lines) -> list[Problem]:
    out: list[Problem] = []
    town = data.get("town")
    if not isinstance(town, dict) or not str(town.get("name", "")).strip():
        out.append(Problem(lines.table("town"), "town_name_missing", {}))
    elif town.get("timezone", "Asia/Tokyo") != "Asia/Tokyo":
        out.append(Problem(lines.table("town", "timezone"), "timezone_unsupported", {}))
    if isinstance(town, dict) and "districts" in town:
        ds = town["districts"]
        if not isinstance(ds, list) or not all(isinstance(d, str) and d.strip() for d in ds):
            out.append(Problem(lines.table("town", "districts"), "districts_invalid", {}))
    if isinstance(town, dict):
        for key, check in TOWN_CALENDAR_CHECKS.items():
            code = check(town[key]) if key in town else None
            if code is not None:
                params = {"value": _shown(town[key])}
                out.append(Problem(lines.table("town", key), code, params))
    channels = data.get("channels", {})
    if not isinstance(channels, dict):
        out.append(Problem(lines.table("channels"), "channels_invalid", {}))
        channels = {}
    for name, value in channels.items():
        if name not in KNOWN_CHANNELS:
            out.append(Problem(lines.table("channels", name), "channel_unknown", {"name": name}))
        elif not isinstance(value, str) or not SLACK_CHANNEL.match(value):
            out.append(
                Problem(lines.table("channels", name), "channel_id_invalid", {"value": value})
            )
    if "coordinator" not in channels:
        out.append(Problem(lines.table("channels"), "coordinator_channel_missing", {}))
    for key, code in reminder_settings_problems(data.get("reminders")):
        out.append(Problem(lines.table("reminders", key or None), code, {"key": key}))

    for key, code in outreach_settings_problems(data.get("outreach")):
        out.append(Problem(lines.table("outreach", key or None), code, {"key": key}))

    agencies = data.get("agencies", [])
    keys: dict[str, dict] = {}
    for i, agency in enumerate(agencies):
        line = lines.entry("agencies", i)
        key = agency.get("key")
        if not isinstance(key, str) or not AGENCY_KEY.match(key):
            out.append(Problem(line, "agency_key_invalid", {"value": key}))
            continue
        if key in keys:
            out.append(Problem(line, "agency_key_duplicate", {"key": key}))
        keys[key] = agency
        if not str(agency.get("name", "")).strip():
            out.append(Problem(line, "agency_name_missing", {"key": key}))
        kind = agency.get("kind")
        if kind not in AgencyKind.__members__:
            out.append(
                Problem(lines.entry("agencies", i, "kind"), "agency_kind_invalid", {"value": kind})
            )
        domain = agency.get("domain")
        if kind == "window" and domain not in Domain.__members__:
            out.append(
                Problem(lines.entry("agencies", i, "domain"), "window_domain_invalid", {"key": key})
            )
        if kind != "window" and domain is not None:
            out.append(Problem(lines.entry("agencies", i, "domain"), "domain_only_for_windows", {}))
        channel = agency.get("channel")
        if channel is not None and (
            not isinstance(channel, str) or not SLACK_CHANNEL.match(channel)
        ):
            out.append(
                Problem(
                    lines.entry("agencies", i, "channel"), "channel_id_invalid", {"value": channel}
                )
            )
    if not any(a.get("kind") == "coordinator" for a in agencies):
        out.append(Problem(None, "coordinator_agency_missing", {}))

    seen: set[str] = set()
    for i, member in enumerate(data.get("members", [])):
        line = lines.entry("members", i)
        slack_id = member.get("slack_id")
        if not isinstance(slack_id, str) or not SLACK_USER.match(slack_id):
            out.append(
                Problem(
                    lines.entry("members", i, "slack_id"), "member_id_invalid", {"value": slack_id}
                )
            )
            continue
        if slack_id in seen:
            out.append(Problem(line, "member_duplicate", {"slack_id": slack_id}))
        seen.add(slack_id)
        if not str(member.get("name", "")).strip():
            out.append(Problem(line, "member_name_missing", {"slack_id": slack_id}))
        if member.get("agency") not in keys:
            out.append(
                Problem(
                    lines.entry("members", i, "agency"),
                    "member_agency_unknown",
                    {"value": member.get("agency")},
                )
            )
        roles = member.get("roles")
        if not isinstance(roles, list) or not roles:
            out.append(Problem(lines.entry("members", i, "roles"), "member_roles_missing", {}))
        else:
            for role in roles:
                if role not in Role.__members__:
                    out.append(
                        Problem(
                            lines.entry("members", i, "roles"),
                            "member_role_invalid",
                            {"value": role},
                        )
                    )
        out.extend(_member_home_problems(member, i, lines))
        ack = member.get("confidentiality_ack")
        if ack is not None and not isinstance(ack, date):
            out.append(
                Problem(
                    lines.entry("members", i, "confidentiality_ack"),
                    "member_ack_invalid",
                    {"value": ack},
                )
            )
    retention = data.get("retention", {})  # models/ops/retention.py: years kept after closure
    years = retention.get("years", 5) if isinstance(retention, dict) else None
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 100:
        out.append(Problem(lines.table("retention", "years"), "retention_years_invalid", {}))
    linknet = data.get("linknet", {})  # models/linknet: k (at least 3), post_time "HH:MM"
    linknet = linknet if isinstance(linknet, dict) else {"k": None}
    k = linknet.get("k", 10)
    if not isinstance(k, int) or isinstance(k, bool) or k < 3:
        out.append(Problem(lines.table("linknet", "k"), "linknet_k_invalid", {}))
    post_time = linknet.get("post_time", "09:00")
    if not isinstance(post_time, str) or not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", post_time):
        out.append(Problem(lines.table("linknet", "post_time"), "linknet_post_time_invalid", {}))
    return out


def _member_home_problems(member: dict, i: int, lines: _Lines) -> list[Problem]:
    """`team = "T…"` and `enterprise = "E…"`: a member from another organisation's workspace."""
    out = []
    for key, pattern in (("team", SLACK_TEAM), ("enterprise", SLACK_ENTERPRISE)):
        value = member.get(key)
        if value is not None and (not isinstance(value, str) or not pattern.match(value)):
            line = lines.entry("members", i, key)
            out.append(Problem(line, f"member_{key}_invalid", {"value": _shown(value)}))
    if member.get("enterprise") is not None and member.get("team") is None:
        line = lines.entry("members", i, "enterprise")
        out.append(Problem(line, "member_enterprise_without_team", {}))
    return out


# --- [town] calendar keys ------------------------------------------------------------------------
# The business calendar (reminders/calendar.py calendar_from_org) reads these when it is built,
# long after loading; checked here by the same rules so a bad value is refused at `org load`
# instead of breaking every reminder later (tests/test_orgfile_town.py holds the two together).


def _time_of(value: object) -> time | None:
    if isinstance(value, time):
        found = value
    elif isinstance(value, str):
        try:
            found = time.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return found if found.tzinfo is None else None  # a zone here would be a typo


def office_hours_problem(value: object) -> str | None:
    """`["08:30", "17:15"]` (strings or TOML times): opening before closing."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return "office_hours_invalid"
    opens, closes = (_time_of(v) for v in value)
    if opens is None or closes is None:
        return "office_hours_invalid"
    return None if opens < closes else "office_hours_order"


def _month_day(value: object) -> date | None:
    try:
        month, day = (int(part) for part in value.split("-"))
        return date(2000, month, day)  # a leap year, so 02-29 is accepted
    except (AttributeError, TypeError, ValueError):
        return None


def year_end_closing_problem(value: object) -> str | None:
    """`["12-29", "01-03"]` (first and last day, may wrap the new year, at most 31 days) or []."""
    if isinstance(value, list | tuple) and len(value) == 0:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        return "year_end_closing_invalid"
    first, last = (_month_day(v) for v in value)
    if first is None or last is None:
        return "year_end_closing_invalid"
    # Days of a leap year, counted circularly so "12-29".."01-03" wraps the new year.
    i, j = ((d - date(2000, 1, 1)).days for d in (first, last))
    days = j - i + 1 if i <= j else 366 - i + j + 1
    return None if days <= 31 else "year_end_closing_too_long"


def _closed_day(value: object) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):  # a datetime is a typo
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def closed_days_problem(value: object) -> str | None:
    """`[2026-08-14, …]` (TOML dates, or "2026-08-14" strings)."""
    if not isinstance(value, list) or any(_closed_day(v) is None for v in value):
        return "closed_days_invalid"
    return None


TOWN_CALENDAR_CHECKS = {
    "office_hours": office_hours_problem,
    "year_end_closing": year_end_closing_problem,
    "closed_days": closed_days_problem,
}


def _storable(value: object) -> object:
    """TOML times (office_hours = [08:30:00, …]) as "08:30:00": settings are stored as JSON."""
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value.isoformat() if isinstance(value, time) else value


def _shown(value: object) -> str:
    """A value as the message quotes it back (TOML-like, short)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def load(session: Session, data: dict) -> LoadResult:
    """Apply a validated org file. Idempotent; absent agencies/members are deactivated."""
    by_key = {a.key: a for a in session.exec(select(Agency))}
    listed_keys = set()
    for position, entry in enumerate(data.get("agencies", [])):
        agency = by_key.get(entry["key"]) or Agency(key=entry["key"], name="", kind="")
        agency.name = entry["name"].strip()
        agency.kind = entry["kind"]
        agency.domain = entry.get("domain")
        agency.channel = entry.get("channel")
        agency.position = position
        agency.active = True
        session.add(agency)
        by_key[agency.key] = agency
        listed_keys.add(agency.key)
    deactivated_agencies = 0
    for key, agency in by_key.items():
        if key not in listed_keys and agency.active:
            agency.active = False
            deactivated_agencies += 1
            session.add(agency)
    session.flush()

    by_slack = {m.slack_id: m for m in session.exec(select(Member))}
    listed = set()
    for entry in data.get("members", []):
        member = by_slack.get(entry["slack_id"]) or Member(
            slack_id=entry["slack_id"], name="", agency_id=0
        )
        member.name = entry["name"].strip()
        member.agency_id = by_key[entry["agency"]].id
        member.roles = list(dict.fromkeys(entry["roles"]))
        member.confidentiality_ack = entry.get("confidentiality_ack")
        member.team = entry.get("team")
        member.enterprise = entry.get("enterprise")
        member.active = True
        session.add(member)
        listed.add(member.slack_id)
    deactivated_members = 0
    for slack_id, member in by_slack.items():
        if slack_id not in listed and member.active:
            member.active = False
            deactivated_members += 1
            session.add(member)

    town = data.get("town", {})
    values = {
        "town": {k: _storable(town[k]) for k in TOWN_KEYS if k in town},
        "channels": data.get("channels", {}),
        "districts": town.get("districts", []),
        "closed_days": [_closed_day(d).isoformat() for d in town.get("closed_days", [])],
        "reminders": data.get(
            "reminders", {}
        ),  # acknowledgement deadlines (models/queues/reminders.py)
        "retention": data.get(
            "retention", {}
        ),  # years kept after closure (models/ops/retention.py)
        "linknet": data.get("linknet", {}),  # Link-net k and posting time (models/linknet)
        "outreach": data.get(
            "outreach", {}
        ),  # overdue escalation days (models/outreach/outreach.py)
    }
    for key, value in values.items():
        put_setting(session, key, value)
    session.flush()
    return LoadResult(
        agencies=len(listed_keys),
        members=len(listed),
        deactivated_agencies=deactivated_agencies,
        deactivated_members=deactivated_members,
    )


def load_file(session: Session, path: Path) -> LoadResult:
    return load(session, parse(path.read_text(encoding="utf-8")))
