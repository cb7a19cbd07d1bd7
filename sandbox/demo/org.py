"""The demo's town: Tatsuno's agencies (from the plan's appendix) staffed by synthetic people.

Every name is obviously made up (試験 …), every Slack id is fake, and no phone number or
address is real. Channel membership is derived from the org, the way a town would set up its
workspace: an agency's channel → its members; the coordinator's channel → the coordinators;
the Link-net channel → the departments and the coordinators; the admin channel → the admins.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from handlers.common.texts import t
from models.org.roster import channel_for
from models.org.tables import Agency, AgencyKind, Member, Role
from sandbox.demo.record import Conversation, Person

COORDINATOR_CHANNEL = "C0SUISHIN"
LINKNET_CHANNEL = "C0LINKNET"
ADMIN_CHANNEL = "C0JOHO"

ORG_TOML = f"""
# tsunagi demo: 辰野町の機関と、架空の職員（名前・ID はすべて架空です）
[town]
name = "辰野町"
timezone = "Asia/Tokyo"
districts = ["試験第一区", "試験第二区", "試験第三区"]

[channels]
coordinator = "{COORDINATOR_CHANNEL}"
linknet = "{LINKNET_CHANNEL}"
admin = "{ADMIN_CHANNEL}"

[[agencies]]
key = "suishin"
name = "重層推進室（保健福祉課）"
kind = "coordinator"

[[agencies]]
key = "houkatsu"
name = "高齢者相談支援センター"
kind = "window"
domain = "elderly"
channel = "C0HOUKATSU"

[[agencies]]
key = "shogai"
name = "障がい福祉係"
kind = "window"
domain = "disability"
channel = "C0SHOGAI"

[[agencies]]
key = "kodomo"
name = "こども家庭センター"
kind = "window"
domain = "children"
channel = "C0KODOMO"

[[agencies]]
key = "shakaifukushi"
name = "社会福祉係"
kind = "window"
domain = "poverty"
channel = "C0FUKUSHI"

[[agencies]]
key = "byoin"
name = "町立辰野病院"
kind = "support"

[[agencies]]
key = "chikatsu"
name = "地域活動支援センター"
kind = "support"

[[agencies]]
key = "minsei"
name = "民生児童委員"
kind = "support"

[[agencies]]
key = "gakko"
name = "町内小中学校"
kind = "partner"

[[agencies]]
key = "zeimu"
name = "税務課"
kind = "department"

[[agencies]]
key = "jumin"
name = "住民課"
kind = "department"

[[members]]
slack_id = "U0SUISHIN1"
name = "試験 調整子"
agency = "suishin"
roles = ["coordinator"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0HOUKATSU1"
name = "試験 包括子"
agency = "houkatsu"
roles = ["window"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0SHOGAI1"
name = "試験 障子"
agency = "shogai"
roles = ["window"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0KODOMO1"
name = "試験 育子"
agency = "kodomo"
roles = ["window"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0FUKUSHI1"
name = "試験 福子"
agency = "shakaifukushi"
roles = ["window"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0BYOIN1"
name = "試験 看護子"
agency = "byoin"
roles = ["support"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0CHIKATSU1"
name = "試験 地活子"
agency = "chikatsu"
roles = ["support"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0MINSEI1"
name = "試験 民生子"
agency = "minsei"
roles = ["support", "partner"]
confidentiality_ack = 2026-04-01

[[members]]
slack_id = "U0GAKKO1"
name = "試験 先生子"
agency = "gakko"
roles = ["partner"]

[[members]]
slack_id = "U0ZEIMU1"
name = "試験 税務子"
agency = "zeimu"
roles = ["department"]

[[members]]
slack_id = "U0JUMIN1"
name = "試験 住民子"
agency = "jumin"
roles = ["department"]

[[members]]
slack_id = "U0JOHO1"
name = "試験 情報子"
agency = "suishin"
roles = ["admin"]
"""

# Who plays which part in the story.
COORDINATOR = "U0SUISHIN1"
HOUKATSU = "U0HOUKATSU1"
SHOGAI = "U0SHOGAI1"
KODOMO = "U0KODOMO1"
FUKUSHI = "U0FUKUSHI1"
BYOIN = "U0BYOIN1"
CHIKATSU = "U0CHIKATSU1"
MINSEI = "U0MINSEI1"
TEACHER = "U0GAKKO1"  # no 守秘義務 acknowledgement: cannot be invited to a さぽネット会議
ZEIMU = "U0ZEIMU1"
JUMIN = "U0JUMIN1"
ADMIN = "U0JOHO1"

ROLE_ORDER = [r.value for r in Role]


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    private: bool
    members: tuple[str, ...]


def channels(session: Session) -> list[Channel]:
    """The workspace's channels and who is in them, derived from the loaded org."""
    members = [m for m in session.exec(select(Member).where(Member.active))]
    agencies = {a.id: a for a in session.exec(select(Agency).where(Agency.active))}

    def ids(pred) -> tuple[str, ...]:
        return tuple(m.slack_id for m in members if pred(m))

    found: list[Channel] = []
    coordinator = channel_for(session, "coordinator")
    if coordinator:
        found.append(
            Channel(
                coordinator,
                t("demo.channel.coordinator"),
                True,
                ids(lambda m: m.has(Role.coordinator)),
            )
        )
    for agency in sorted(agencies.values(), key=lambda a: a.position):
        if agency.channel:
            found.append(
                Channel(
                    agency.channel,
                    agency.name,
                    False,
                    ids(lambda m, a=agency: m.agency_id == a.id),
                )
            )
    linknet = channel_for(session, "linknet")
    if linknet:
        found.append(
            Channel(
                linknet,
                t("demo.channel.linknet"),
                False,
                ids(
                    lambda m: (
                        m.has(Role.coordinator)
                        or agencies[m.agency_id].kind == AgencyKind.department
                    )
                ),
            )
        )
    admin = channel_for(session, "admin")
    if admin:
        found.append(
            Channel(admin, t("demo.channel.admin"), True, ids(lambda m: m.has(Role.admin)))
        )
    return found


def people(session: Session, chans: list[Channel]) -> list[Person]:
    """Every active member, in the org file's agency order."""
    agencies = {a.id: a for a in session.exec(select(Agency))}
    members = sorted(
        session.exec(select(Member).where(Member.active)),
        key=lambda m: (agencies[m.agency_id].position, m.id),
    )
    out = []
    for m in members:
        roles = sorted(m.roles, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else 99)
        out.append(
            Person(
                user_id=m.slack_id,
                name=m.name,
                agency_key=agencies[m.agency_id].key,
                agency=agencies[m.agency_id].name,
                roles=tuple(t(f"demo.role.{r}") for r in roles),
                conversations=tuple(c.id for c in chans if m.slack_id in c.members),
            )
        )
    return out


def conversations(chans: list[Channel]) -> dict[str, Conversation]:
    return {c.id: Conversation(c.id, c.name, c.private) for c in chans}
