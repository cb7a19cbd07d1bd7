"""Partners from other organisations: who they are (team, user), the door in their agency's
channel, which channels must stay inside the town, and where a referrer whom a DM cannot reach
hears about their memo.

Slack facts behind this (README 「他の組織の方（Slack Connect・ゲスト）」): people of another
organisation in a Slack Connect channel keep their own workspace's team id; the town's app cannot
always open a DM with them; buttons on the bot's messages in the shared channel reach them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from models.cases.tables import Case, Referral
from models.org.identities import Known
from models.org.roster import channel_for
from models.org.tables import Agency, AgencyKind, Member, PartnerDoor

# Whose channel holds a door: the agencies that send memos but do not receive case cards.
DOOR_KINDS = (AgencyKind.partner.value, AgencyKind.support.value, AgencyKind.department.value)
# Whose channel receives case cards: it must not be shared with another organisation.
CASE_KINDS = (AgencyKind.window.value, AgencyKind.coordinator.value)


# --- identity: (team, user) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who Slack says acted: the user and the workspace (team) and organisation they act from."""

    user: str
    team: str | None
    enterprise: str | None = None


def recognised(member: Member | Known | None, who: Identity, *, home_team: str | None) -> bool:
    """Does this request come from where the org file says the member belongs?

    A member with `team` in the org file must act from that workspace (and from that
    `enterprise`, when given); any other member from the town's own. Without a team to compare
    (a request that names none, or a home team not known yet) the member is taken as listed,
    unless the request names an organisation other than the member's `enterprise`.
    A person the org file does not know is left to the handler, which refuses strangers."""
    if member is None:
        return True
    if who.team is None:
        return member.enterprise is None or who.enterprise in (None, member.enterprise)
    if member.team is not None:
        if who.team != member.team:
            return False
        return member.enterprise is None or who.enterprise == member.enterprise
    return home_team is None or who.team == home_team


def members_from_elsewhere(session: Session) -> list[tuple[Member, Agency]]:
    """Active members whose home workspace is another organisation's, with their agency."""
    rows = session.exec(
        select(Member, Agency)
        .where(Member.agency_id == Agency.id, Member.active, Member.team.is_not(None))
        .order_by(Agency.position, Member.id)
    )
    return list(rows)


# --- the doors -----------------------------------------------------------------------------------


def door_agencies(session: Session, key: str | None = None) -> list[Agency]:
    """Active agencies whose channel holds a door (one agency when `key` is given, whatever its
    kind, as long as it has a channel)."""
    query = select(Agency).where(Agency.active, Agency.channel.is_not(None))
    if key is not None:
        return list(session.exec(query.where(Agency.key == key)))
    return list(session.exec(query.where(Agency.kind.in_(DOOR_KINDS)).order_by(Agency.position)))


def door_of(session: Session, agency_id: int) -> PartnerDoor | None:
    return session.exec(select(PartnerDoor).where(PartnerDoor.agency_id == agency_id)).first()


def door_channel_of(session: Session, slack_id: str) -> str | None:
    """The door channel of an active member's agency (the door's, else the agency's channel
    when it is one that holds a door): where a person of another organisation can be told
    something when a DM to them is refused."""
    member = session.exec(select(Member).where(Member.slack_id == slack_id, Member.active)).first()
    agency = session.get(Agency, member.agency_id) if member is not None else None
    if agency is None:
        return None
    door = door_of(session, agency.id)
    if door is not None and door.ts:
        return door.channel
    return agency.channel if agency.kind in DOOR_KINDS else None


def door_in(session: Session, channel: str | None) -> PartnerDoor | None:
    """The posted door in `channel`, if the bot keeps one there."""
    if not channel:
        return None
    query = select(PartnerDoor).where(PartnerDoor.channel == channel, PartnerDoor.ts.is_not(None))
    return session.exec(query).first()


def record_door(
    session: Session, *, agency_id: int, channel: str, ts: str | None, digest: str, pinned: bool
) -> PartnerDoor:
    door = door_of(session, agency_id) or PartnerDoor(agency_id=agency_id, channel=channel)
    door.channel, door.ts, door.digest, door.pinned = channel, ts, digest, pinned
    session.add(door)
    session.flush()
    return door


# Setting: which process is keeping the doors now, and until when (models/queues/lease.py).
DOORS_LEASE = "partner_doors_lease"


# --- channels that must stay inside the town ------------------------------------------------


def case_channels(session: Session) -> dict[str, str]:
    """channel id -> what it is (the coordinator's, or an agency key): the channels that get
    case cards, which must not be shared with another organisation."""
    found: dict[str, str] = {}
    coordinator = channel_for(session, "coordinator")
    if coordinator:
        found[coordinator] = "coordinator"
    query = select(Agency).where(Agency.active, Agency.kind.in_(CASE_KINDS))
    for agency in session.exec(query.order_by(Agency.position)):
        if agency.channel and agency.channel not in found:
            found[agency.channel] = agency.key
    return found


# --- reaching a referrer a DM cannot reach -------------------------------------------------


@dataclass(frozen=True)
class Reach:
    user: str  # the referrer's Slack user id (mentioned in a thread reply)
    channel: str  # where they clicked the door (else their agency's door)
    door_ts: str | None  # the door message there, for a thread reply


def reach_for(session: Session, case_id: int) -> Reach | None:
    """Where the referrer of a case can be told, when a DM cannot be opened (None: nowhere)."""
    case = session.get(Case, case_id)
    if case is None:
        return None
    referrer = session.get(Member, case.referrer_id)
    if referrer is None or not referrer.active:
        return None
    origin = session.exec(
        select(Referral.origin_channel).where(Referral.case_id == case_id)
    ).first()
    door = door_in(session, origin) if origin else door_of(session, referrer.agency_id)
    if door is None or door.ts is None:
        return Reach(referrer.slack_id, origin, None) if origin else None
    return Reach(referrer.slack_id, door.channel, door.ts)
