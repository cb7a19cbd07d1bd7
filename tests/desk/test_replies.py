"""handlers.replies: domain refusals in words (state keys as their Japanese names), and every
refusal code the listeners raise has a text."""

import re
from pathlib import Path

import pytest

from handlers.common.replies import message_for
from handlers.common.texts import has, label
from models.base.errors import DomainError

ROOT = Path(__file__).parents[2]
RAISED = re.compile(r"""\bDomainError\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")


def test_a_refused_transition_names_the_states_in_japanese():
    text = message_for(DomainError("case.transition_refused", frm="window", to="coordination"))
    assert label("state", "window") in text and label("state", "coordination") in text
    assert "window" not in text and "coordination" not in text


def test_a_state_parameter_that_is_not_a_case_state_is_shown_as_given():
    text = message_for(DomainError("desk.not_now", number="R8-0001", state="一時停止中"))
    assert "R8-0001" in text and "一時停止中" in text


def test_other_parameters_are_left_alone():
    # `window` is a case state, but here it is a number's value, not a state
    assert "window" in message_for(DomainError("status.not_found", number="window"))


def codes_raised_by_listeners() -> set[str]:
    found = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        found |= set(RAISED.findall(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("code", sorted(codes_raised_by_listeners()))
def test_every_refusal_a_listener_raises_has_a_text(code):
    assert has(code), f"{code} is missing from handlers/common/locale/ja/"
