"""The routing rule on its own: a window when plainly one domain, else the coordinator."""

import pytest

from models.cases.routing import UNKNOWN_DESTINATION, RouteReason, route
from models.org.tables import Domain

WINDOWS = {
    Domain.elderly: ["houkatsu"],
    Domain.disability: ["shogai", "kiraria"],
    Domain.children: ["kodomo"],
    Domain.poverty: ["shakaifukushi"],
}


@pytest.mark.parametrize(
    ("concerns", "destination", "coordinator", "reason", "window"),
    [
        (["kaigo"], None, False, RouteReason.single_domain, "houkatsu"),
        (["kaigo", "ninchisho"], None, False, RouteReason.single_domain, "houkatsu"),
        (["hattatsu"], None, False, RouteReason.single_domain, "shogai"),
        (["hattatsu"], "kiraria", False, RouteReason.named_window, "kiraria"),
        (["futoko"], None, False, RouteReason.single_domain, "kodomo"),
        (["keizai", "sumai"], None, False, RouteReason.single_domain, "shakaifukushi"),
        (["kaigo", "shogai"], None, True, RouteReason.multiple_domains, None),
        (["kaigo", "shogai"], "houkatsu", True, RouteReason.multiple_domains, None),
        (["hachimaru_gomaru"], None, True, RouteReason.complex_concern, None),
        (["kaigo", "double_care"], "houkatsu", True, RouteReason.complex_concern, None),
        (["hikikomori"], None, True, RouteReason.complex_concern, None),
        (["self_neglect"], None, True, RouteReason.complex_concern, None),
        (["kaigo"], UNKNOWN_DESTINATION, True, RouteReason.referrer_unsure, None),
        (["koritsu"], None, True, RouteReason.no_domain, None),
        (["sonota"], "kodomo", False, RouteReason.named_window, "kodomo"),
    ],
)
def test_route(concerns, destination, coordinator, reason, window):
    decision = route(concerns=concerns, destination=destination, windows_by_domain=WINDOWS)
    assert (decision.to_coordinator, decision.reason, decision.window_key) == (
        coordinator,
        reason,
        window,
    )


def test_a_domain_without_any_window_goes_to_the_coordinator():
    decision = route(concerns=["kaigo"], destination=None, windows_by_domain={})
    assert decision.to_coordinator and decision.reason is RouteReason.no_domain
