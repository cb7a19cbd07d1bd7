"""The town's organisation: agencies, members, channels (loaded from the org file)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, Column, bindparam, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import object_session
from sqlmodel import Field, Session, SQLModel, select


class Role(StrEnum):
    partner = "partner"
    window = "window"
    coordinator = "coordinator"
    support = "support"
    department = "department"
    admin = "admin"


class AgencyKind(StrEnum):
    window = "window"
    coordinator = "coordinator"
    support = "support"
    partner = "partner"
    department = "department"


class Domain(StrEnum):
    elderly = "elderly"
    disability = "disability"
    children = "children"
    poverty = "poverty"


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    domain: str | None = Field(default=None, max_length=20)
    channel: str | None = Field(default=None, max_length=32)
    position: int = 0  # order in the org file: the first window of a domain is its front door
    active: bool = True


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slack_id: str = Field(unique=True, index=True, max_length=32)
    name: str = Field(max_length=100)  # staff name, for the audit export; messages use <@id>
    agency_id: int = Field(foreign_key="agency.id", index=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidentiality_ack: date | None = None
    active: bool = True

    def has(self, role: Role) -> bool:
        return self.active and role.value in self.roles


class OrgSetting(SQLModel, table=True):
    """Town-wide values from the org file: channels, town name, calendar, districts."""

    key: str = Field(primary_key=True, max_length=64)
    value: object = Field(sa_column=Column(JSON, nullable=True))


_SETTINGS = "tsunagi_settings"  # session.info key: the settings, read once per transaction


# Statements built once: building and keying a statement costs more than running it on these
# small tables, and they are read in nearly every transaction.
_ALL_SETTINGS = select(OrgSetting)
_MEMBER_BY_SLACK_ID = select(Member).where(Member.slack_id == bindparam("slack_id"))
_ACTIVE_OF_KIND = (
    select(Agency).where(Agency.kind == bindparam("kind"), Agency.active).order_by(Agency.position)
)


def setting(session: Session, key: str, default: object = None) -> object:
    # One SELECT per transaction: a memo alone asks for five settings, most of them absent
    # (which the identity map cannot remember).
    values = session.info.get(_SETTINGS)
    if values is None:
        values = {row.key: row.value for row in session.exec(_ALL_SETTINGS)}
        session.info[_SETTINGS] = values
    value = values.get(key)
    return default if value is None else value


def _forget_settings(session: OrmSession) -> None:
    session.info.pop(_SETTINGS, None)


@event.listens_for(OrmSession, "before_attach")
def _forget_on_attach(session: OrmSession, instance: object) -> None:
    if isinstance(instance, OrgSetting):  # a setting added or merged: read them afresh
        _forget_settings(session)


@event.listens_for(OrgSetting.value, "set", propagate=True)
def _forget_on_change(target: OrgSetting, _value, _old, _initiator) -> None:
    session = object_session(target)
    if session is not None:
        _forget_settings(session)


def put_setting(session: Session, key: str, value: object) -> None:
    """Write a setting (the org file does); later reads in this transaction see it."""
    row = session.get(OrgSetting, key) or OrgSetting(key=key)
    row.value = value
    session.add(row)


def channel_for(session: Session, name: str) -> str | None:
    channels = setting(session, "channels", {}) or {}
    return channels.get(name)


def member_by_slack_id(session: Session, slack_id: str) -> Member | None:
    """The active member behind a Slack user id, or None for strangers and deactivated members."""
    member = session.exec(_MEMBER_BY_SLACK_ID, params={"slack_id": slack_id}).first()
    return member if member is not None and member.active else None


def active_members_of(session: Session, agency_id: int) -> list[Member]:
    rows = session.exec(select(Member).where(Member.agency_id == agency_id, Member.active))
    return list(rows)


def members_with_role(session: Session, role: Role) -> list[Member]:
    return [m for m in session.exec(select(Member).where(Member.active)) if m.has(role)]


def windows(session: Session) -> list[Agency]:
    return list(session.exec(_ACTIVE_OF_KIND, params={"kind": AgencyKind.window.value}))


def coordinator_agency(session: Session) -> Agency | None:
    return session.exec(_ACTIVE_OF_KIND, params={"kind": AgencyKind.coordinator.value}).first()


def districts(session: Session) -> list[str]:
    return list(setting(session, "districts", []) or [])
