from datetime import date

import pytest
from sqlmodel import Session

from models.base.numbering import fiscal_year, format_number, next_number, next_numbers


@pytest.mark.parametrize(
    ("day", "fy"),
    [(date(2026, 4, 1), 2026), (date(2027, 3, 31), 2026), (date(2026, 3, 31), 2025)],
)
def test_fiscal_year_starts_in_april(day, fy):
    assert fiscal_year(day) == fy


def test_format_uses_reiwa_years():
    assert format_number(2026, 1) == "R8-0001"
    assert format_number(2019, 12) == "R1-0012"
    assert format_number(2027, 12345) == "R9-12345"


def test_sequence_per_fiscal_year(engine):
    with Session(engine) as s:
        assert next_number(s, date(2026, 11, 27))[2] == "R8-0001"
        assert next_number(s, date(2027, 3, 31))[2] == "R8-0002"
        assert next_number(s, date(2027, 4, 1))[2] == "R9-0001"
        assert next_number(s, date(2026, 5, 1))[2] == "R8-0003"
        s.commit()


def test_several_numbers_are_taken_at_once_in_order(engine):
    with Session(engine) as s:
        assert next_number(s, date(2026, 11, 27))[2] == "R8-0001"
        taken = next_numbers(s, date(2026, 11, 27), 3)
        assert [n for _, _, n in taken] == ["R8-0002", "R8-0003", "R8-0004"]
        assert next_numbers(s, date(2027, 4, 1), 2)[1] == (2027, 2, "R9-0002")
        assert next_number(s, date(2026, 12, 1))[2] == "R8-0005"
        s.commit()
