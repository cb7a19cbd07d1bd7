"""Heavy computations can run in a child process and come back the same."""

from __future__ import annotations

import os

import pytest

from models.base import offload
from models.base.errors import DomainError


def where_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def refuse(code: str) -> None:
    raise DomainError(code, k=2)


@pytest.fixture
def isolated():
    offload.isolate()
    yield
    offload.isolate(False)


def test_direct_by_default():
    assert offload.run(where_and_square, 7) == (os.getpid(), 49)


def test_isolated_runs_in_another_process_and_returns_the_value(isolated):
    pid, value = offload.run(where_and_square, 7)
    assert value == 49 and pid != os.getpid()


def test_isolated_errors_come_back_as_they_were(isolated):
    with pytest.raises(DomainError) as raised:
        offload.run(refuse, "linknet.k_too_small")
    assert raised.value.code == "linknet.k_too_small" and raised.value.params == {"k": 2}


def test_link_net_figures_are_the_same_computed_in_a_child_process(org):
    from models.base.db import transaction
    from models.linknet import figures
    from models.linknet.periods import Month
    from tests.conftest import START
    from tests.linknet.test_linknet_figures import jst, memo

    with transaction(org) as session:
        for day in range(1, 15):
            memo(session, jst(2026, 10, day, 11))
    layout = figures.post_layout(Month(2026, 10))
    with transaction(org, write=False) as session:
        here = figures.make_draft(session, layout, k=10, now=START)
    offload.isolate()
    try:
        with transaction(org, write=False) as session:
            there = figures.make_draft(session, layout, k=10, now=START)
    finally:
        offload.isolate(False)
    assert there.cells == here.cells and there.withheld == here.withheld


def test_the_chart_is_drawn_the_same_in_a_child_process(isolated):
    from handlers.linknet.chart import Series, TrendChart, render_trend

    chart = TrendChart(
        title="試験",
        x_labels=("4月", "5月"),
        series=(Series("高齢", (12, None)),),
        totals=Series("合計", (20, 15)),
        y_label="件数",
        band_label="10未満",
        k=10,
    )
    png = offload.run(render_trend, chart)
    assert png.startswith(b"\x89PNG")
