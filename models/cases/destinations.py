"""Where memos go: the windows and the coordinator as routing needs them, and where a case
routed to an agency is announced.

`intake_org` reads it all in one go for the in-memory copy (models/org/identities.py), so taking
a memo asks the database nothing before its single write (`tsunagi bench`: the organisation's
reads were about a fifth of a memo's CPU).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from models.org.roster import active_members_of, channel_for, coordinator_agency, districts, windows
from models.org.tables import Agency, Domain


@dataclass(frozen=True)
class Destination:
    """An agency a memo can be routed to; plain data, safe to keep between transactions."""

    id: int
    key: str
    name: str
    kind: str
    domain: str | None
    cards: tuple[str, ...]  # where a case routed here is announced (card_targets)


@dataclass(frozen=True)
class IntakeOrg:
    windows: tuple[Destination, ...]  # active windows, front door first
    coordinator: Destination | None
    districts: tuple[str, ...]

    def windows_by_domain(self) -> dict[Domain, list[str]]:
        table: dict[Domain, list[str]] = {}
        for window in self.windows:
            table.setdefault(Domain(window.domain), []).append(window.key)
        return table


def card_targets(session: Session, agency: Agency) -> list[str]:
    """Where a case routed to `agency` is announced: its channel, else DMs to its members."""
    if agency.kind == "coordinator":
        channel = channel_for(session, "coordinator") or agency.channel
    else:
        channel = agency.channel
    if channel:
        return [channel]
    return [m.slack_id for m in active_members_of(session, agency.id)]


def _destination(session: Session, agency: Agency) -> Destination:
    cards = tuple(card_targets(session, agency))
    return Destination(agency.id, agency.key, agency.name, agency.kind, agency.domain, cards)


def intake_org(session: Session) -> IntakeOrg:
    """The organisation as a memo needs it (read for the in-memory copy; see the module)."""
    coordinator = coordinator_agency(session)
    return IntakeOrg(
        windows=tuple(_destination(session, a) for a in windows(session)),
        coordinator=None if coordinator is None else _destination(session, coordinator),
        districts=tuple(districts(session)),
    )
