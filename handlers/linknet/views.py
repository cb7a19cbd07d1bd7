"""How the Link-net figures look: the post, its chart, the preview and the yearly report's table.

Everything here is drawn from a `Published` (what the ledger recorded, or the draft the preview
shows) — never from the counts themselves, so a hidden value cannot reach a message, the chart,
its alt text or the report. Only numbers, category labels and months appear: no names, no
receipt numbers, nothing finer than a month.
"""

from __future__ import annotations

from handlers.common.blocks import context, section
from handlers.common.texts import has, label, t
from handlers.linknet.chart import Series, TrendChart
from models.linknet.cells import TOTAL, Cell, Display, Shown
from models.linknet.figures import TREND_SOURCE, Published
from models.linknet.periods import Month, Period
from models.linknet.sources import SOURCES

# Vocabulary labels reused for categories (linknet.category.<source>.<cat> overrides them).
LABEL_GROUPS = {
    "new_domain": "domain",
    "new_age": "age_band",
    "new_urgency": "urgency",
    "closed": "close_reason",
    "open_state": "state",
}


# --- words ----------------------------------------------------------------------------------


def month_label(m: Month) -> str:
    return t("linknet.period_month", year=m.year, month=m.month)


def period_label(p: Period) -> str:
    if p.first == p.last:
        return month_label(p.first)
    return t("linknet.period_span", first=month_label(p.first), last=month_label(p.last))


def source_label(source: str) -> str:
    return t(f"linknet.source.{source}")


def category_label(source: str, category: str) -> str:
    if category == TOTAL:
        return t("linknet.total")
    own = f"linknet.category.{source}.{category}"
    if has(own):
        return t(own)
    return label(LABEL_GROUPS[source], category)


def categories_shown(source: str) -> tuple[str, ...]:
    """A source of one category is shown by its total alone."""
    categories = SOURCES[source].categories
    return categories if len(categories) > 1 else ()


def figure(s: Shown | None, k: int) -> str:
    """A cell as shown: "12件", "10未満", "秘匿" (or "—" where nothing was published)."""
    if s is None:
        return t("linknet.not_shown")
    if s.display is Display.below_k:
        return t("linknet.below_k", k=s.k)
    if s.display is Display.hidden:
        return t("linknet.hidden")
    return t("linknet.count", n=s.value)


def hours_label(hours: float | None) -> str:
    if hours is None:
        return t("linknet.not_shown")
    if hours < 1:
        return t("linknet.under_hour")
    if hours < 48:
        return t("linknet.hours", n=round(hours))
    return t("linknet.days", n=round(hours / 24))


def _cell(pub: Published, source: str, category: str, p: Period) -> Shown | None:
    return pub.get(Cell(source, category, p.first.index, p.last.index))


# --- the post -------------------------------------------------------------------------------


def _section_text(pub: Published, source: str) -> str:
    current, previous, fytd = pub.layout.columns
    lines = [f"*{source_label(source)}*"]
    if source in pub.withheld:
        return "\n".join([*lines, t("linknet.withheld")])
    stock = SOURCES[source].stock
    for category in (TOTAL, *categories_shown(source)):
        values = [_cell(pub, source, category, p) for p in (current, previous, fytd)]
        shown = [v for v in values if v is not None]
        if category != TOTAL and all(v.display is Display.value and v.value == 0 for v in shown):
            continue  # a category with nothing in any column is left out (it is 0)
        name = category_label(source, category)
        if stock:
            line = t(
                "linknet.row_stock",
                label=name,
                current=figure(values[0], pub.k),
                previous=figure(values[1], pub.k),
            )
        else:
            line = t(
                "linknet.row_flow",
                label=name,
                current=figure(values[0], pub.k),
                previous=figure(values[1], pub.k),
                fytd=figure(values[2], pub.k),
            )
        lines.append(("• " if category != TOTAL else "") + line)
    if source == "ack":
        shares = [_share(pub, p) for p in (current, previous, fytd)]
        lines.append(t("linknet.ack_share", current=shares[0], previous=shares[1], fytd=shares[2]))
        medians = [
            pub.measures.get(("ack_median_hours", p.first.index, p.last.index))
            for p in (current, previous, fytd)
        ]
        lines.append(
            t(
                "linknet.ack_median",
                current=hours_label(medians[0]),
                previous=hours_label(medians[1]),
                fytd=hours_label(medians[2]),
            )
        )
    return "\n".join(lines)


def _share(pub: Published, p: Period) -> str:
    """期限内の割合, only from two numbers that were both published (it reveals nothing new)."""
    within = _cell(pub, "ack", "within", p)
    total = _cell(pub, "ack", TOTAL, p)
    if (
        within is None
        or total is None
        or within.display is not Display.value
        or total.display is not Display.value
        or not total.value
    ):
        return t("linknet.not_shown")
    return t("linknet.percent", n=round(100 * within.value / total.value))


def post_message(pub: Published) -> tuple[str, list[dict]]:
    """The monthly Link-net message: readable lines per table, current / previous / FYTD."""
    current, previous, fytd = pub.layout.columns
    blocks = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": t("linknet.title", period=period_label(current)),
            },
        },
        section(t("linknet.intro", period=period_label(current), k=pub.k)).to_dict(),
        context(
            t("linknet.columns", previous=period_label(previous), fytd=period_label(fytd))
        ).to_dict(),
        {"type": "divider"},
    ]
    for source in SOURCES:
        blocks.append(section(_section_text(pub, source)).to_dict())
    if TREND_SOURCE in SOURCES:
        blocks.append(context(t("linknet.chart_follows")).to_dict())
    blocks.append(context(t("linknet.footer")).to_dict())
    return t("linknet.text", period=period_label(current)), blocks


# --- the chart ------------------------------------------------------------------------------


def _trend_months(pub: Published) -> list[Month]:
    return list(pub.layout.trend)


def _x_label(m: Month, first: bool) -> str:
    if first or m.month == 1:
        return t("linknet.chart.x_year_month", year=m.year, month=m.month)
    return t("linknet.chart.x_month", month=m.month)


def _value(s: Shown | None) -> int | None:
    return s.value if s is not None and s.display is Display.value else None


def trend_chart(pub: Published) -> TrendChart:
    months = _trend_months(pub)
    source = SOURCES[TREND_SOURCE]

    def series(category: str) -> Series:
        values = tuple(
            _value(pub.get(Cell(TREND_SOURCE, category, m.index, m.index))) for m in months
        )
        return Series(category_label(TREND_SOURCE, category), values)

    totals = series(TOTAL)
    return TrendChart(
        title=t("linknet.chart.title"),
        x_labels=tuple(_x_label(m, i == 0) for i, m in enumerate(months)),
        series=tuple(series(c) for c in source.categories),
        totals=Series(t("linknet.chart.total"), totals.values),
        y_label=t("linknet.chart.y_label"),
        band_label=t("linknet.chart.band", k=pub.k),
        k=pub.k,
    )


def alt_text(pub: Published) -> str:
    """The chart in words, from the same published cells (screen readers, and the preview)."""
    months = _trend_months(pub)
    parts = []
    for category in (TOTAL, *SOURCES[TREND_SOURCE].categories):
        cells = [pub.get(Cell(TREND_SOURCE, category, m.index, m.index)) for m in months]
        if category != TOTAL and all(
            c is not None and c.display is Display.value and c.value == 0 for c in cells
        ):
            continue
        values = "、".join(
            "—" if c is None else str(c.value) if c.display is Display.value else figure(c, pub.k)
            for c in cells
        )
        name = (
            t("linknet.chart.total")
            if category == TOTAL
            else category_label(TREND_SOURCE, category)
        )
        parts.append(t("linknet.chart.alt_series", label=name, values=values))
    text = t(
        "linknet.chart.alt",
        first=month_label(months[0]),
        last=month_label(months[-1]),
        k=pub.k,
        series="".join(parts),
    )
    return text[:1000]


# --- the preview (ephemeral) ----------------------------------------------------------------


def preview_blocks(pub: Published, *, channel: str | None, already: bool) -> list[dict]:
    head = (
        t("linknet.preview.head", channel=channel)
        if channel
        else t("linknet.preview.head_no_channel")
    )
    blocks = [section(head).to_dict()]
    if already:
        blocks.append(context(t("linknet.preview.posted_already")).to_dict())
    _, post = post_message(pub)
    blocks.extend(post)
    if TREND_SOURCE in SOURCES:
        blocks.append(context(alt_text(pub)).to_dict())
    return blocks


# --- the yearly report ----------------------------------------------------------------------


def report_rows(pub: Published) -> list[list[str]]:
    """Rows a clerk can paste into the national report: item, category, this year, last year."""
    current, previous = pub.layout.columns
    rows = [
        [
            t("linknet.report.col_item"),
            t("linknet.report.col_category"),
            t(
                "linknet.report.col_current",
                fy=current.first.fiscal_year,
                span=period_label(current),
            ),
            t("linknet.report.col_previous", fy=previous.first.fiscal_year),
        ]
    ]
    for source in SOURCES:
        if SOURCES[source].stock:
            continue  # a month's end has no yearly figure
        if source in pub.withheld:
            rows.append([source_label(source), "", t("linknet.report.withheld"), ""])
            continue
        for category in (TOTAL, *categories_shown(source)):
            rows.append(
                [
                    source_label(source) if category == TOTAL else "",
                    category_label(source, category),
                    report_figure(_cell(pub, source, category, current)),
                    report_figure(_cell(pub, source, category, previous)),
                ]
            )
    return rows


def report_figure(s: Shown | None) -> str:
    """A cell for the report table: the bare number (for pasting), or the suppression mark."""
    if s is None:
        return t("linknet.not_shown")
    if s.display is Display.value:
        return str(s.value)
    return figure(s, s.k)
