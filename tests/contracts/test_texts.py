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
# A text's code handed to a builder that looks it up (field("outreach.field.name"), …).
CODE = re.compile(r"""["']((?:%s)\.[a-z_0-9]+(?:\.[a-z_0-9]+)*)["']""")
# Codes the code builds from parts (f"desk.done.{step}"): spelled out here, so each is checked.
BUILT = [
    *(f"desk.done.{s}" for s in ("advance", "close", "escalate", "reroute", "resume", "set_lead")),
    *(f"desk.done.{s}" for s in ("start_assessment", "suspend")),
    "home.next",
    "home.prev",
    *(f"meeting.changed.{k}_{p}" for k in ("cancelled", "uninvited") for p in ("body", "text")),
    *(f"meeting.done.{k}" for k in ("attendees", "cancelled", "rescheduled")),
    "meeting.hint.notes",
    "meeting.hint.topics",
    *(f"meeting.submit.{k}" for k in ("attendees", "cancel", "record", "reschedule", "schedule")),
    *(f"meeting.title.{k}" for k in ("agenda", "meeting", "minutes")),
    *(f"outreach.button.{k}" for k in ("close", "pause", "resume")),
    *(f"outreach.field.{k}" for k in ("consent_agencies", "consent_method", "contact", "district")),
    *(f"outreach.field.{k}" for k in ("first_contact_on", "kana", "method", "name", "whereabouts")),
    *(f"plan.button.{k}" for k in ("done", "evaluate", "open_task", "progress")),
    "plan.submit.evaluation",
    "plan.submit.progress",
    "plan.title.task",
]


def codes_in_source() -> set[str]:
    sections = "|".join(sorted({code.split(".")[0] for code in _codes(_catalogue())}))
    anywhere = re.compile(CODE.pattern % sections)
    found = set(BUILT)
    for folder in ("bot", "handlers", "models", "reminders", "sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found |= set(LITERAL.findall(text))
            if folder == "handlers":
                found |= set(anywhere.findall(text))
    return found


def _codes(tree: dict, prefix: str = "") -> set[str]:
    codes = set()
    for key, value in tree.items():
        code = f"{prefix}{key}"
        codes |= _codes(value, code + ".") if isinstance(value, dict) else {code}
    return codes


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
