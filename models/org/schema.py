"""The org file's shape: which sections and keys exist (pydantic models, `extra="forbid"`).

The values are checked by the rules in models/org/orgfile.py (each with its own message); this
schema answers the question those rules cannot: is this a name the file may contain at all?
A misspelt key (`confidentialty_ack`) or section (`[reminder]`) used to be ignored silently —
which, for `confidentiality_ack`, cleared a member's 守秘義務 acknowledgement. Now it is refused
with the nearest valid name (difflib), so the person sees what they meant.

A new key of the org file is added here and read in orgfile.py (and tested in tests/ops).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

Value = Any  # values are checked by orgfile.py's rules, which say what is wrong in words


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Town(_Section):
    name: Value = None
    timezone: Value = None
    districts: Value = None
    office_hours: Value = None  # ["08:30", "17:15"]
    year_end_closing: Value = None  # ["12-29", "01-03"]
    closed_days: Value = None  # [2026-08-14, …]


class Channels(_Section):
    coordinator: Value = None
    linknet: Value = None
    admin: Value = None


class Reminders(_Section):
    ack_urgent: Value = None
    ack_three_days: Value = None
    ack_normal: Value = None
    escalate: Value = None
    repeat_escalation: Value = None


class Outreach(_Section):
    escalate_after_days: Value = None


class Retention(_Section):
    years: Value = None


class Linknet(_Section):
    k: Value = None
    post_time: Value = None


class AgencyEntry(_Section):
    key: Value = None
    name: Value = None
    kind: Value = None
    domain: Value = None
    channel: Value = None


class MemberEntry(_Section):
    slack_id: Value = None
    name: Value = None
    agency: Value = None
    roles: Value = None
    confidentiality_ack: Value = None
    team: Value = None  # Slack Connect: the member's home workspace, "T…"
    enterprise: Value = None  # …and its Enterprise Grid organisation, "E…"


class OrgFile(_Section):
    town: Town | None = None
    channels: Channels | None = None
    reminders: Reminders | None = None
    outreach: Outreach | None = None
    retention: Retention | None = None
    linknet: Linknet | None = None
    agencies: list[AgencyEntry] = []
    members: list[MemberEntry] = []


ARRAYS = ("agencies", "members")  # written [[agencies]], [[members]]
SECTIONS: dict[str, type[BaseModel]] = {
    "town": Town,
    "channels": Channels,
    "reminders": Reminders,
    "outreach": Outreach,
    "retention": Retention,
    "linknet": Linknet,
    "agencies": AgencyEntry,
    "members": MemberEntry,
}


@dataclass(frozen=True)
class NameProblem:
    line: int | None
    code: str  # under "orgfile." in handlers/common/locale/ja/orgfile.toml
    params: dict


@dataclass
class Shape:
    """What the schema found: problems, and the data without the unknown names (so the value
    rules run on what is left and every problem of the file is listed at once)."""

    problems: list[NameProblem] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    broken: bool = False  # a section of the wrong kind: the value rules cannot run


def _model_at(where: tuple) -> type[BaseModel]:
    """The model whose names apply at `where` (the top, or inside a section or entry)."""
    return SECTIONS[str(where[0])] if where else OrgFile


def nearest(name: str, valid: list[str]) -> str | None:
    found = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return found[0] if found else None


def check(data: dict, text: str) -> Shape:
    """Compare parsed TOML `data` (from `text`) with the schema."""
    shape = Shape(data=_copy(data))
    try:
        OrgFile.model_validate(data)
        return shape
    except ValidationError as exc:
        errors = exc.errors()
    lines = _Finder(text)
    for error in errors:
        loc = tuple(error["loc"])
        *where, name = loc
        if error["type"] == "extra_forbidden":
            valid = list(_model_at(tuple(where)).model_fields)
            close = nearest(str(name), valid)
            section = _section_of(tuple(where))
            params = {"name": name, "section": section, "nearest": close, "valid": "、".join(valid)}
            code = ("section_unknown" if not where else "key_unknown") + ("" if close else "_list")
            shape.problems.append(NameProblem(lines.find(loc), code, params))
            _drop(shape.data, loc)
        else:  # a section or an entry that is not a table (or an array of tables)
            shape.broken = True
            section = _section_of(loc)
            code = "array_expected" if error["type"] == "list_type" else "table_expected"
            shape.problems.append(NameProblem(lines.find(loc), code, {"section": section}))
    return shape


def _section_of(loc: tuple) -> str:
    """How the person wrote the section: "[town]" or "[[members]]" ("" at the top)."""
    if not loc:
        return ""
    top = str(loc[0])
    return f"[[{top}]]" if top in ARRAYS else f"[{top}]"


def _copy(data: object) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _drop(data: dict, loc: tuple) -> None:
    node: Any = data
    for part in loc[:-1]:
        node = node[part]
    node.pop(loc[-1], None)


class _Finder:
    """The line where a name of the file is written: `[name]`, `[[name]]` (the n-th), or
    `key = …` inside one of them, or at the top before the first section."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _header(self, name: str, index: int | None) -> int | None:
        if index is None:  # [name], or [[name]] where a table was meant
            pattern = re.compile(rf"^\s*\[{{1,2}}\s*{re.escape(name)}\s*\]")
            found = [i for i, line in enumerate(self.lines) if pattern.match(line)]
            return found[0] if found else None
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
        found = [i for i, line in enumerate(self.lines) if pattern.match(line)]
        return found[index] if index < len(found) else None

    def _key(self, start: int, key: str) -> int | None:
        pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*[=.]""")
        for i in range(start, len(self.lines)):
            if i > start and self.lines[i].lstrip().startswith("["):
                break
            if pattern.match(self.lines[i]):
                return i
        return None

    def find(self, loc: tuple) -> int | None:
        top = str(loc[0])
        index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        keys = [str(p) for p in loc[1:] if not isinstance(p, int)]
        header = self._header(top, index)
        if header is None:  # `reminder = …` at the top, or a dotted `town.x = …`
            found = self._key(0, top)
            return None if found is None else found + 1
        if not keys:
            return header + 1
        found = self._key(header, keys[0])
        return (found if found is not None else header) + 1
