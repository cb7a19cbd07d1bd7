"""The cells of a Link-net table: what a figure counts, how it shows (k未満), how cells relate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

TOTAL = "*"


MIN_K = 3


DEFAULT_K = 10


Atom = tuple[str, str, int]  # (source, category, month index)


class Display(StrEnum):
    value = "value"  # the number (0 included)
    below_k = "below_k"  # "k未満": 1 … k-1
    hidden = "hidden"  # "秘匿": secondary suppression, ≥ k


@dataclass(frozen=True, order=True)
class Cell:
    source: str
    category: str  # a category of the source, or TOTAL
    first: int  # month index (periods.Month.index)
    last: int

    @property
    def months(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True)
class Shown:
    cell: Cell
    display: Display
    value: int | None  # only for Display.value
    k: int


@dataclass(frozen=True)
class Shape:
    categories: tuple[str, ...]
    stock: bool = False  # a count at a month's end: cells of one month only
    exact: bool = False  # counts events that are not people (meetings): never suppressed


Schema = Mapping[str, Shape]


@dataclass(frozen=True)
class Relation:
    """A structural identity everybody knows: Σ coefficient × atom = 0."""

    name: str
    terms: tuple[tuple[Atom, int], ...]


def check_k(k: int) -> int:
    if not isinstance(k, int) or k < MIN_K:
        raise ValueError(f"k must be an integer of at least {MIN_K}")
    return k


def display_of(value: int, k: int) -> Display:
    return Display.below_k if 1 <= value <= k - 1 else Display.value


def atoms_of(schema: Schema, cell: Cell) -> tuple[Atom, ...]:
    shape = schema[cell.source]
    if shape.stock and cell.first != cell.last:
        raise ValueError(f"stock source {cell.source}: a cell is one month's end")
    cats = shape.categories if cell.category == TOTAL else (cell.category,)
    return tuple((cell.source, c, m) for c in cats for m in cell.months)


def value_of(schema: Schema, cell: Cell, truth: Mapping[Atom, int]) -> int:
    return sum(truth.get(a, 0) for a in atoms_of(schema, cell))


def monthly_cells(schema: Schema, months: Iterable[int]) -> list[Cell]:
    """Every one-month cell (each category and the total) of every source."""
    months = list(months)
    return [
        Cell(source, category, m, m)
        for source, shape in schema.items()
        for category in (*shape.categories, TOTAL)
        for m in months
    ]
