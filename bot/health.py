"""Health: the HTTP `/healthz` probe, and the fuller checks of `tsunagi check`.

Neither says anything about a person: only states, counts and ids of channels and staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.settings import Settings, problem_line
from bot.slack import make_client
from handlers.common.texts import t
from models.base import crypto
from models.base.clock import TOKYO
from models.base.db import make_engine, missing_sqlite_file, transaction
from models.ops import migrate
from models.ops.keys import key_opens, not_current
from models.org.roster import ORG_FILE_RECORD
from models.org.tables import Agency, Member, OrgSetting, Role
from models.queues.tables import Notice, NoticeState

# --------------------------------------------------------------------------- /healthz

HealthCheck = Callable[[], tuple[int, dict]]


def database_ok(engine: Engine) -> bool:
    """One cheap round trip; a hung server does not hang the probe for long."""
    try:
        # A read (models.db): on SQLite it does not wait behind the bot's writes.
        with engine.execution_options(tsunagi_write=False).connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL statement_timeout = 2000"))
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True


def probe(engine: Engine, *, scheduler=None, memo_store=None) -> HealthCheck:
    """What `GET /healthz` answers: 200 when the database answers, else 503. The worker
    (`scheduler`) and the memo store are reported, not counted: while one starts again, the
    outbox waits and the server stores memos itself."""

    def check() -> tuple[int, dict]:
        body = {"status": "ok", "database": "ok"}
        if scheduler is not None:
            body["scheduler"] = "running" if scheduler.running else "stopped"
        if memo_store is not None:
            body["memo_store"] = "running" if memo_store.running else "stopped"
        if not database_ok(engine):
            body.update(status="unavailable", database="unreachable")
            return 503, body
        return 200, body

    return check


# --------------------------------------------------------------------------- tsunagi check


class Level(StrEnum):
    ok = "ok"
    warn = "warn"  # worth a look; not an outage (exit code stays 0)
    problem = "problem"  # exit code 1
    config = "config"  # settings missing or malformed: exit code 2


# The sections of `tsunagi check`, in order; each finding's code says where it belongs.
SECTIONS = ("settings", "database", "key", "org", "outbox", "slack", "channels")
_SECTION_OF_PREFIX = {
    "missing": "settings",
    "setting": "settings",
    "database": "database",
    "schema": "database",
    "key": "key",
    "old": "key",
    "org": "org",
    "outbox": "outbox",
    "slack": "slack",
    "app": "slack",
    "channel": "channels",
}


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str  # a text under ops.check.*
    params: dict = field(default_factory=dict)

    @property
    def section(self) -> str:
        if self.code in ("key_malformed", "database_url_invalid"):
            return "settings"
        return _SECTION_OF_PREFIX.get(self.code.split("_")[0], "other")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Level, code: str, **params: object) -> Finding:
        finding = Finding(level, code, params)
        self.findings.append(finding)
        return finding

    @property
    def exit_code(self) -> int:
        levels = {f.level for f in self.findings}
        if Level.config in levels:
            return 2
        return 1 if Level.problem in levels else 0


STUCK_AFTER = timedelta(minutes=15)  # a running bot sends a due notice within seconds


def run_checks(
    settings: Settings, *, now: datetime, client_factory=None, setting_problems=()
) -> Report:
    """Settings, database, schema, key, org file, outbox, Slack tokens, channels.

    `setting_problems`: the malformed variables (bot/settings.py read()); what they feed is not
    looked at (a default in their place would check something else, or create a file)."""
    report = Report()
    bad = {p.name for p in setting_problems}
    for problem in setting_problems:
        report.add(Level.config, "setting_invalid", line=problem_line(problem))
    if not settings.bot_token and "SLACK_BOT_TOKEN" not in bad:
        report.add(Level.config, "missing_setting", name="SLACK_BOT_TOKEN")
    if not settings.encryption_keys and "TSUNAGI_ENCRYPTION_KEY" not in bad:
        report.add(Level.config, "missing_setting", name="TSUNAGI_ENCRYPTION_KEY")
    else:
        try:
            crypto.configure(settings.encryption_keys)
        except crypto.KeyProblem:
            report.add(Level.config, "key_malformed")
    engine = None if "TSUNAGI_DATABASE_URL" in bad else _database(report, settings)
    try:
        if engine is not None:
            _database_checks(report, engine, settings, now)
        if settings.bot_token and not bad & {"SLACK_API_URL", "SLACK_APP_TOKEN"}:
            _slack_checks(report, settings, engine=engine, factory=client_factory)
    finally:
        if engine is not None:
            engine.dispose()
    return report


def _database(report: Report, settings: Settings) -> Engine | None:
    try:
        missing = missing_sqlite_file(settings.database_url)
        if missing is None:
            engine = make_engine(settings.database_url)
    except Exception:
        report.add(Level.config, "database_url_invalid")
        return None
    if missing is not None:  # connecting would create an empty file: a check changes nothing
        report.add(Level.problem, "database_file_missing", path=missing)
        return None
    if not database_ok(engine):
        engine.dispose()
        report.add(Level.problem, "database_unreachable", dialect=engine.dialect.name)
        return None
    report.add(Level.ok, "database_ok", dialect=engine.dialect.name)
    return engine


def _database_checks(report: Report, engine: Engine, settings: Settings, now: datetime) -> None:
    current = migrate.current_revision(engine)
    head = migrate.head_revision(settings.database_url)
    if current != head:
        report.add(Level.problem, "schema_old", current=current or "-", head=head)
        return  # the tables below may not be there yet
    report.add(Level.ok, "schema_ok", revision=current)
    opens = None
    with transaction(engine, write=False) as session:
        if settings.encryption_keys and _keys_configured():
            opens = key_opens(session)
            if opens is None:
                report.add(Level.warn, "key_not_planted")
            elif opens:
                report.add(Level.ok, "key_ok")
            else:
                report.add(Level.problem, "key_wrong")
        _org_checks(report, session)
        _outbox_checks(report, session, now)
    if opens and len(settings.encryption_keys) > 1:
        left = not_current(engine)
        if left:
            report.add(Level.warn, "old_key_needed", count=left)
        else:
            report.add(Level.warn, "old_key_unused")


def _org_checks(report: Report, session: Session) -> None:
    """Which file, when, how many agencies and members, who lacks a 守秘義務 acknowledgement."""
    if session.get(OrgSetting, "channels") is None:
        report.add(Level.problem, "org_not_loaded")
        return
    record = session.get(OrgSetting, ORG_FILE_RECORD)
    value = record.value if record is not None and isinstance(record.value, dict) else None
    if value:
        at = datetime.fromisoformat(value["loaded_at"]).astimezone(TOKYO)
        report.add(Level.ok, "org_loaded", path=value["path"], at=f"{at:%Y-%m-%d %H:%M}")
    else:
        report.add(Level.ok, "org_loaded_somehow")
    agencies = session.execute(select(func.count()).select_from(Agency).where(Agency.active))
    members = list(session.execute(select(Member).where(Member.active)).scalars())
    report.add(Level.ok, "org_counts", agencies=agencies.scalar(), members=len(members))
    lacking = sorted(m.slack_id for m in members if m.confidentiality_ack is None)
    if lacking:
        report.add(Level.ok, "org_ack_missing", count=len(lacking), users="、".join(lacking))
    else:
        report.add(Level.ok, "org_ack_all")


def _keys_configured() -> bool:
    try:
        crypto.encrypt("")
    except crypto.KeyProblem:
        return False
    return True


def _outbox_checks(report: Report, session: Session, now: datetime) -> None:
    stuck = session.execute(
        select(func.count())
        .select_from(Notice)
        .where(Notice.state == NoticeState.pending, Notice.next_attempt_at < now - STUCK_AFTER)
    ).scalar()
    if stuck:
        report.add(Level.problem, "outbox_stuck", count=stuck)
    else:
        report.add(Level.ok, "outbox_ok")
    failed = session.execute(
        select(func.count())
        .select_from(Notice)
        .where(Notice.state == NoticeState.failed, Notice.created_at >= now - timedelta(days=7))
    ).scalar()
    if failed:
        report.add(Level.warn, "outbox_failed", count=failed)


@dataclass(frozen=True)
class Channel:
    id: str
    role: str  # "coordinator" / "linknet" / "admin" / "agency"
    agency_id: int | None = None
    agency_name: str | None = None


def _channels(engine: Engine | None) -> tuple[list[Channel], dict[int, list[str]], list[str]]:
    """The channels the org file names, the staff of each agency, the coordinators."""
    if engine is None:
        return [], {}, []
    try:
        with transaction(engine, write=False) as session:
            row = session.get(OrgSetting, "channels")
            named = dict(row.value or {}) if row is not None else {}
            out = [Channel(cid, role) for role, cid in sorted(named.items()) if cid]
            agencies = session.execute(select(Agency).where(Agency.active)).scalars().all()
            for agency in sorted(agencies, key=lambda a: a.position):
                if agency.channel:
                    out.append(Channel(agency.channel, "agency", agency.id, agency.name))
            staff: dict[int, list[str]] = {}
            coordinators: list[str] = []
            for m in session.execute(select(Member).where(Member.active)).scalars():
                staff.setdefault(m.agency_id, []).append(m.slack_id)
                if m.has(Role.coordinator):
                    coordinators.append(m.slack_id)
    except SQLAlchemyError:
        return [], {}, []
    return out, staff, coordinators


def _slack_checks(report: Report, settings: Settings, *, engine: Engine | None, factory) -> None:
    client = (factory or make_client)(settings.bot_token, settings.slack_api_url)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        report.add(Level.problem, "slack_token_invalid", error=exc.response.get("error"))
        return
    except Exception as exc:
        report.add(Level.problem, "slack_unreachable", kind=type(exc).__name__)
        return
    bot_user = auth.get("user_id")
    report.add(Level.ok, "slack_token_ok", team=auth.get("team"), user=auth.get("user"))
    _app_token_check(report, settings, factory)
    channels, staff, coordinators = _channels(engine)
    seen: set[str] = set()
    for channel in channels:
        if channel.id in seen:
            continue
        seen.add(channel.id)
        where = channel.agency_name or _role_label(channel.role)
        try:
            info = client.conversations_info(channel=channel.id)["channel"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            code = "channel_not_found" if error == "channel_not_found" else "channel_error"
            report.add(Level.problem, code, channel=channel.id, where=where, error=error)
            continue
        except Exception as exc:
            report.add(Level.problem, "slack_unreachable", kind=type(exc).__name__)
            return
        if info.get("is_archived"):
            report.add(Level.problem, "channel_archived", channel=channel.id, where=where)
            continue
        if not info.get("is_member"):
            report.add(Level.problem, "channel_not_member", channel=channel.id, where=where)
            continue
        try:
            members = set(_members(client, channel.id))
        except SlackApiError as exc:
            error = exc.response.get("error")
            report.add(Level.problem, "channel_error", channel=channel.id, where=where, error=error)
            continue
        if bot_user and bot_user not in members:
            report.add(Level.problem, "channel_not_member", channel=channel.id, where=where)
            continue
        expected = (
            staff.get(channel.agency_id, [])
            if channel.role == "agency"
            else coordinators
            if channel.role == "coordinator"
            else []
        )
        missing = sorted(set(expected) - members)
        if missing:
            report.add(
                Level.warn,
                "channel_staff_missing",
                channel=channel.id,
                where=where,
                users=", ".join(missing),
            )
        else:
            report.add(Level.ok, "channel_ok", channel=channel.id, where=where)


def _app_token_check(report: Report, settings: Settings, factory) -> None:
    """apps.connections.open, the call Socket Mode starts with (its URL is left unused)."""
    if not settings.app_token:
        report.add(Level.ok, "app_token_unset")
        return
    client = (factory or make_client)(settings.app_token, settings.slack_api_url)
    try:
        client.apps_connections_open(app_token=settings.app_token)
    except SlackApiError as exc:
        report.add(Level.problem, "app_token_invalid", error=exc.response.get("error"))
    except Exception as exc:
        report.add(Level.problem, "slack_unreachable", kind=type(exc).__name__)
    else:
        report.add(Level.ok, "app_token_ok")


def _members(client, channel: str) -> list[str]:
    members, cursor = [], None
    while True:
        page = client.conversations_members(channel=channel, cursor=cursor, limit=200)
        members += page.get("members", [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members


def _role_label(role: str) -> str:
    return t(f"ops.check.channel_role.{role}")
