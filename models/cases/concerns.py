"""The memo's vocabulary: concerns, age bands, urgency, consent. Keys only; labels are texts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.org.tables import Domain


@dataclass(frozen=True)
class Concern:
    key: str
    group: str  # a Domain value, or "crosscut"
    domain: Domain | None  # the domain it points to, if any
    complex: bool = False  # by itself a sign of a multi-layered case: goes to the coordinator


CONCERNS: tuple[Concern, ...] = (
    Concern("kaigo", "elderly", Domain.elderly),
    Concern("ninchisho", "elderly", Domain.elderly),
    Concern("koreisha_seikatsu", "elderly", Domain.elderly),
    Concern("shogai", "disability", Domain.disability),
    Concern("hattatsu", "disability", Domain.disability),
    Concern("shogai_service", "disability", Domain.disability),
    Concern("kosodate", "children", Domain.children),
    Concern("ninshin", "children", Domain.children),
    Concern("kodomo_hattatsu", "children", Domain.children),
    Concern("seikatsu_hi", "poverty", Domain.poverty),
    Concern("saimu", "poverty", Domain.poverty),
    Concern("hikikomori", "crosscut", None, complex=True),
    Concern("futoko", "crosscut", Domain.children),
    Concern("gyakutai_dv", "crosscut", None),
    Concern("double_care", "crosscut", None, complex=True),
    Concern("hachimaru_gomaru", "crosscut", None, complex=True),  # 8050
    Concern("self_neglect", "crosscut", None, complex=True),
    Concern("keizai", "crosscut", Domain.poverty),
    Concern("sumai", "crosscut", Domain.poverty),
    Concern("shuro", "crosscut", Domain.poverty),
    Concern("seishin", "crosscut", Domain.disability),
    Concern("gaikokujin", "crosscut", None),
    Concern("koritsu", "crosscut", None),
    Concern("sonota", "crosscut", None),
)
CONCERN_BY_KEY = {c.key: c for c in CONCERNS}
CONCERN_GROUPS = ("elderly", "disability", "children", "poverty", "crosscut")

AGE_BANDS = ("0-5", "6-12", "13-18", "19-39", "40-64", "65-74", "75+", "unknown")


class Urgency(StrEnum):
    urgent = "urgent"  # 緊急・今日中
    three_days = "three_days"  # 3日以内
    normal = "normal"  # 通常


class ConsentToShare(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


def domains_of(concern_keys: list[str]) -> list[Domain]:
    found = {CONCERN_BY_KEY[k].domain for k in concern_keys if CONCERN_BY_KEY[k].domain}
    return [d for d in Domain if d in found]


def has_complex(concern_keys: list[str]) -> bool:
    return any(CONCERN_BY_KEY[k].complex for k in concern_keys)
