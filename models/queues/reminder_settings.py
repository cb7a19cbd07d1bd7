"""The org file's [reminders]: acknowledgement deadlines per urgency and escalation, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.cases.concerns import Urgency

ACK_KEYS = {
    "ack_urgent": Urgency.urgent,
    "ack_three_days": Urgency.three_days,
    "ack_normal": Urgency.normal,
}


DEFAULT_ACK_DEADLINES: dict[Urgency, tuple[str, int]] = {
    Urgency.urgent: ("hours", 1),  # 緊急: within 1 office hour
    Urgency.three_days: ("days", 1),  # 3日以内: within 1 business day
    Urgency.normal: ("days", 2),  # 通常: within 2 business days
}


SETTING_KEYS = (*ACK_KEYS, "escalate", "repeat_escalation")


_SPAN = re.compile(r"^\s*(\d{1,3})\s*([hd])\s*$")


@dataclass(frozen=True)
class ReminderSettings:
    ack: dict  # Urgency -> ("hours" | "days", amount)
    escalate: bool = True  # remind the coordinator when still waiting after the next deadline
    repeat_escalation: bool = True  # …and again every deadline until someone takes it


def settings_problems(section: object) -> list[tuple[str, str]]:
    """(key, problem code) for each bad value of the org file's [reminders] section."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return [("", "reminders_not_table")]
    problems = []
    for key, value in section.items():
        if key in ACK_KEYS:
            match = _SPAN.match(value) if isinstance(value, str) else None
            if match is None or int(match.group(1)) == 0:
                problems.append((key, "reminders_span_invalid"))
        elif key in ("escalate", "repeat_escalation"):
            if not isinstance(value, bool):
                problems.append((key, "reminders_bool_invalid"))
        else:
            problems.append((key, "reminders_key_unknown"))
    return problems


def parse_settings(section: object) -> ReminderSettings:
    """The [reminders] section as settings (defaults for what is missing).

    ack_urgent = "1h"      # 緊急: office hours ("h") or business days ("d")
    ack_three_days = "1d"
    ack_normal = "2d"
    escalate = true
    repeat_escalation = true
    """
    section = section if isinstance(section, dict) else {}
    if problems := settings_problems(section):
        raise ValueError(f"[reminders] {problems[0][0]}: {problems[0][1]}")
    ack = dict(DEFAULT_ACK_DEADLINES)
    for key, urgency in ACK_KEYS.items():
        if key in section:
            amount, unit = _SPAN.match(section[key]).groups()
            ack[urgency] = ("hours" if unit == "h" else "days", int(amount))
    return ReminderSettings(
        ack=ack,
        escalate=section.get("escalate", True),
        repeat_escalation=section.get("repeat_escalation", True),
    )
