"""The participation-resource file (参加支援の資源, TOML): validated whole, applied in one go.

    [[resources]]
    key = "salon-hirade"          # a short id: letters, digits, - and _
    name = "平出 ふれあいサロン"
    kind = "salon"                # ibasho / work / volunteer / salon / learning / other
    description = "毎週水曜の午前、公民館で"   # optional, no personal data

Like the organisation file: loading the same file twice changes nothing; a resource loaded from
an earlier file and missing now is deactivated (never deleted: tasks keep their link); a file
with any problem is refused with the line and the reason, and nothing changes. Resources the
coordinator added in Slack (source "slack") are left alone by the file.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from models.base.errors import DomainError
from models.plans.outcomes import InputInvalid
from models.plans.tables import (
    PlanTask,
    Resource,
    ResourceKind,
)

KEY = re.compile(r"^[a-z0-9_\-]{1,64}$")
FIELDS = ("key", "name", "kind", "description")
NAME_LIMIT = 200
DESCRIPTION_LIMIT = 300


@dataclass(frozen=True)
class Problem:
    line: int | None
    code: str  # a message code under "resource.file." in handlers/locale
    params: dict


class ResourceFileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the resource file")
        self.problems = problems


@dataclass(frozen=True)
class LoadResult:
    total: int
    added: int
    changed: int
    deactivated: int


def _entry_lines(text: str) -> list[int]:
    """The line (1-based) of each `[[resources]]` header, in order."""
    header = re.compile(r"^\s*\[\[\s*resources\s*\]\]")
    return [i + 1 for i, line in enumerate(text.splitlines()) if header.match(line)]


def _key_line(text: str, start: int | None, key: str) -> int | None:
    if start is None:
        return None
    lines = text.splitlines()
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return start


def parse(text: str) -> list[dict]:
    """The resources of the file, or ResourceFileError listing every problem with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise ResourceFileError([Problem(line, "syntax", {})]) from exc
    problems: list[Problem] = []
    for name in data:
        if name != "resources":
            problems.append(Problem(None, "unknown_table", {"name": name}))
    entries = data.get("resources", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ResourceFileError([*problems, Problem(None, "not_a_list", {})])
    starts = _entry_lines(text)
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        start = starts[i] if i < len(starts) else None

        def at(key: str, start=start) -> int | None:
            return _key_line(text, start, key)

        for extra in sorted(set(entry) - set(FIELDS)):
            problems.append(Problem(at(extra), "unknown_field", {"field": extra}))
        key = entry.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            problems.append(Problem(at("key"), "bad_key", {}))
        elif key in seen:
            problems.append(Problem(at("key"), "duplicate_key", {"key": key, "first": seen[key]}))
        else:
            seen[key] = start or 0
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(at("name"), "name_missing", {}))
        elif len(name) > NAME_LIMIT:
            problems.append(Problem(at("name"), "too_long", {"field": "name", "most": NAME_LIMIT}))
        if entry.get("kind") not in ResourceKind.__members__:
            problems.append(Problem(at("kind"), "bad_kind", {"kinds": " / ".join(ResourceKind)}))
        description = entry.get("description")
        if description is not None and not isinstance(description, str):
            problems.append(Problem(at("description"), "not_text", {"field": "description"}))
        elif description and len(description) > DESCRIPTION_LIMIT:
            problems.append(
                Problem(
                    at("description"),
                    "too_long",
                    {"field": "description", "most": DESCRIPTION_LIMIT},
                )
            )
    if problems:
        raise ResourceFileError(problems)
    return entries


def apply(session: Session, entries: list[dict]) -> LoadResult:
    existing = {r.key: r for r in session.exec(select(Resource))}
    added = changed = deactivated = 0
    keys = set()
    for entry in entries:
        keys.add(entry["key"])
        values = {
            "name": entry["name"].strip(),
            "kind": entry["kind"],
            "description": (entry.get("description") or "").strip() or None,
            "source": "file",
            "active": True,
        }
        row = existing.get(entry["key"])
        if row is None:
            session.add(Resource(key=entry["key"], **values))
            added += 1
            continue
        if any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
            changed += 1
    for key, row in existing.items():
        if key not in keys and row.source == "file" and row.active:
            row.active = False
            session.add(row)
            deactivated += 1
    session.flush()
    return LoadResult(len(entries), added, changed, deactivated)


def load_file(session: Session, path: Path) -> LoadResult:
    return apply(session, parse(path.read_text(encoding="utf-8")))


# --- added in Slack (the coordinator's modal) -----------------------------------------------------


def add_from_slack(
    session: Session, *, name: str | None, kind: str | None, description: str | None
) -> Resource:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "resource.error.name_required"
    elif len(name) > NAME_LIMIT:
        errors["name"] = "outcome.too_long"
    if kind not in ResourceKind.__members__:
        errors["kind"] = "resource.error.choose_kind"
    description = (description or "").strip() or None
    if description and len(description) > DESCRIPTION_LIMIT:
        errors["description"] = "outcome.too_long"
    if errors:
        raise InputInvalid(errors)
    row = Resource(
        key=f"slack-new-{uuid.uuid4().hex[:16]}",
        name=name,
        kind=kind,
        description=description,
        source="slack",
    )
    session.add(row)
    session.flush()
    row.key = f"slack-{row.id}"
    session.add(row)
    session.flush()
    return row


def set_active(session: Session, resource_id: int | None, *, active: bool) -> Resource:
    row = session.get(Resource, resource_id) if resource_id else None
    if row is None:
        raise DomainError("resource.not_found")
    row.active = active
    session.add(row)
    return row


def resource_use(session: Session, *, since: datetime, until: datetime) -> dict[str, int]:
    """How many plan tasks linked each kind of resource (counts only), by the task's creation."""
    rows = session.exec(
        select(Resource.kind, func.count(PlanTask.id))
        .join(PlanTask, PlanTask.resource_id == Resource.id)
        .where(PlanTask.created_at >= since, PlanTask.created_at < until)
        .group_by(Resource.kind)
    )
    return dict(rows)


def use_by_resource(session: Session) -> dict[int, int]:
    """Tasks linked to each resource, ever (for the coordinator's list)."""
    rows = session.exec(
        select(PlanTask.resource_id, func.count(PlanTask.id))
        .where(PlanTask.resource_id.is_not(None))
        .group_by(PlanTask.resource_id)
    )
    return {int(r): int(n) for r, n in rows}


def active_resources(session: Session) -> list[Resource]:
    return list(
        session.exec(select(Resource).where(Resource.active).order_by(Resource.kind, Resource.id))
    )


def all_resources(session: Session) -> list[Resource]:
    return list(session.exec(select(Resource).order_by(Resource.active.desc(), Resource.id)))
