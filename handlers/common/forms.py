"""Reading a submitted view: one reader for every form, and the private_metadata it carries.

Forms put one element in each input block, so a block's answer is read whatever the element's
action id. Text left empty reads as None, like a select left unchosen.
"""

from __future__ import annotations

import json
from datetime import date, time

_ONE = ("static_select", "radio_buttons", "external_select")
_MANY = ("multi_static_select", "multi_external_select", "checkboxes")


def value(view: dict, block: str) -> object:
    """The answer in input `block` of a submitted view (None when empty or absent)."""
    state = (view.get("state") or {}).get("values", {}).get(block) or {}
    element = next(iter(state.values()), None) or {}
    kind = element.get("type")
    if kind in _ONE:
        selected = element.get("selected_option")
        return selected["value"] if selected else None
    if kind in _MANY:
        return [o["value"] for o in element.get("selected_options") or []]
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    text = element.get("value")
    return text if text != "" else None


def date_value(view: dict, block: str) -> date | None:
    found = value(view, block)
    try:
        return date.fromisoformat(found) if found else None
    except (TypeError, ValueError):
        return None


def time_value(view: dict, block: str) -> time | None:
    found = value(view, block)
    try:
        return time.fromisoformat(found) if found else None
    except (TypeError, ValueError):
        return None


def int_value(view: dict, block: str) -> int | None:
    found = value(view, block)
    try:
        return int(found) if found is not None else None
    except (TypeError, ValueError):
        return None


def int_values(view: dict, block: str, *, unknown: int | None = None) -> list[int]:
    """The chosen ids; one that is not a number is dropped, or kept as `unknown` so that the
    validation can name it."""
    found = []
    for item in value(view, block) or []:
        try:
            found.append(int(item))
        except (TypeError, ValueError):
            if unknown is not None:
                found.append(unknown)
    return found


def metadata(**values) -> str:
    """private_metadata: what a form must remember between opening and submission."""
    return json.dumps(values)


def read_metadata(raw: str | None) -> dict:
    """A view's private_metadata as written by `metadata` ({} if unreadable: never trusted)."""
    try:
        data = json.loads(raw or "{}")
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}
