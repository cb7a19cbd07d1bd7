"""The town's organisation as tables: agencies, members, town-wide settings (the org file)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


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
    # The member's home workspace when it is not the town's (Slack Connect partners): the
    # request's team (and enterprise, where given) must match, or the member is not recognised.
    team: str | None = Field(default=None, max_length=32)
    enterprise: str | None = Field(default=None, max_length=32)

    def has(self, role: Role) -> bool:
        return self.active and role.value in self.roles


class PartnerDoor(SQLModel, table=True):
    """The pinned message in a partner agency's channel (its 「つなぎメモを書く」 button).

    One per agency; `digest` is the hash of what was last posted, so a changed text is edited in
    place (chat.update) and an unchanged one is left alone.
    """

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", unique=True)
    channel: str = Field(index=True, max_length=32)
    ts: str | None = Field(default=None, max_length=32)  # None: not posted yet
    digest: str = Field(default="", max_length=64)
    pinned: bool = False


class OrgSetting(SQLModel, table=True):
    """Town-wide values from the org file: channels, town name, calendar, districts."""

    key: str = Field(primary_key=True, max_length=64)
    value: object = Field(sa_column=Column(JSON, nullable=True))
