"""Members from another organisation's workspace: `team` and `enterprise` in the org file are
checked, stored, and a bad value is refused with its line, changing nothing."""

import pytest
from sqlmodel import Session, select

from models.base.db import transaction
from models.org.orgfile import OrgFileError, load, parse
from models.org.tables import Member
from tests.conftest import ORG_FILE

PARTNER = '[[members]]\nslack_id = "U0PARTNER1"\n'


def with_partner_keys(keys: str) -> str:
    text = ORG_FILE.read_text(encoding="utf-8")
    return text.replace(PARTNER, PARTNER + keys, 1)


def test_team_and_enterprise_are_stored(org):
    with transaction(org) as s:
        load(s, parse(with_partner_keys('team = "T0HOSP"\nenterprise = "E0HOSP"\n')))
    with Session(org) as s:
        member = s.exec(select(Member).where(Member.slack_id == "U0PARTNER1")).one()
        assert (member.team, member.enterprise) == ("T0HOSP", "E0HOSP")
    with transaction(org) as s:  # removed from the file: back to a member of the town's workspace
        load(s, parse(ORG_FILE.read_text(encoding="utf-8")))
    with Session(org) as s:
        member = s.exec(select(Member).where(Member.slack_id == "U0PARTNER1")).one()
        assert (member.team, member.enterprise) == (None, None)


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        ('team = "X0HOSP"\n', "member_team_invalid"),
        ("team = 12\n", "member_team_invalid"),
        ('team = "T0HOSP"\nenterprise = "T0HOSP"\n', "member_enterprise_invalid"),
        ('enterprise = "E0HOSP"\n', "member_enterprise_without_team"),
    ],
)
def test_a_bad_home_workspace_is_refused_with_its_line(keys, code):
    text = with_partner_keys(keys)
    with pytest.raises(OrgFileError) as caught:
        parse(text)
    [problem] = caught.value.problems
    assert problem.code == code
    line = text.splitlines()[problem.line - 1]
    assert line.startswith(("team", "enterprise"))
