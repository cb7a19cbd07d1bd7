"""The town's organisation: agencies, members, channels (loaded from the org file)."""

from __future__ import annotations

from sqlalchemy import bindparam, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from models.org.tables import Agency, AgencyKind, Member, OrgSetting, Role

_SETTINGS = "tsunagi_settings"  # session.info key: the settings, read once per transaction
ORG_FILE_RECORD = "org_file"  # setting: which file `tsunagi org load` read last, and when


# Statements built once: building and keying a statement costs more than running it on these
# small tables, and they are read in nearly every transaction.
# Key and value only: the rows as ORM objects cost more to build than the query (`tsunagi bench`).
_ALL_SETTINGS = select(OrgSetting.key, OrgSetting.value)
_MEMBER_BY_SLACK_ID = select(Member).where(Member.slack_id == bindparam("slack_id"))
_ACTIVE_OF_KIND = (
    select(Agency).where(Agency.kind == bindparam("kind"), Agency.active).order_by(Agency.position)
)


def setting(session: Session, key: str, default: object = None) -> object:
    # One SELECT per transaction: a memo alone asks for five settings, most of them absent
    # (which the identity map cannot remember).
    values = session.info.get(_SETTINGS)
    if values is None:
        values = {key: value for key, value in session.execute(_ALL_SETTINGS)}
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
