"""Every text the code asks for exists, in polite Japanese, and every vocabulary key has a label."""

import re
from pathlib import Path

import pytest

from handlers.common.texts import _catalogue, has, label
from models.cases.concerns import AGE_BANDS, CONCERNS, ConsentToShare, Urgency
from models.cases.lifecycle import CaseState
from models.cases.routing import RouteReason
from models.org.tables import Domain

ROOT = Path(__file__).parents[2]
POLITE = r"(です|ます|ません|ください|でした|ました|しょう)(（[^（）]*）)?[）」)]*。$"
LITERAL = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")


def codes_in_source() -> set[str]:
    found = set()
    for folder in ("bot", "handlers", "models", "reminders"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("code", sorted(codes_in_source()))
def test_every_text_used_in_code_exists(code):
    assert has(code), f"{code} is missing from handlers/common/locale/ja/"


def test_every_vocabulary_key_has_a_label():
    for c in CONCERNS:
        label("concern", c.key)
    for group, keys in {
        "age_band": AGE_BANDS,
        "urgency": list(Urgency),
        "consent": list(ConsentToShare),
        "state": list(CaseState),
        "domain": list(Domain),
        "route_reason": list(RouteReason),
    }.items():
        for key in keys:
            label(group, key)


def _all_texts(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _all_texts(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_sentences_are_polite():
    # Sentences addressed to people end in です・ます forms, not plain forms (examples aside).
    polite = re.compile(POLITE)
    plain = []
    for code, text in _all_texts(_catalogue()):
        if code.startswith("label."):
            continue
        for sentence in re.split(r"(?<=。)", text):
            s = sentence.strip()
            if s.endswith("。") and not s.startswith("例") and not polite.search(s):
                plain.append(f"{code}: {s}")
    assert plain == []
