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
from models.base.numbering import REIWA_OFFSET
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


def reiwa(fy: int) -> str:
    """令和 of a fiscal year (2026 → "8"; 2019 → "元")."""
    n = fy - REIWA_OFFSET
    return t("linknet.report.first_year") if n == 1 else str(n)


def fiscal_year_label(fy: int) -> str:
    """令和8年度（2026年度）."""
    return t("linknet.report.fiscal_year", reiwa=reiwa(fy), fy=fy)


def unit_label(source: str) -> str:
    """実人数 (a case counted once) or 延べ件数 (every event counted)."""
    return t(f"linknet.unit.{SOURCES[source].unit}")


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
    before = [pub.before_start(p) for p in (current, previous, fytd)]
    if source in pub.withheld:
        return "\n".join([*lines, t("linknet.withheld")])
    stock = SOURCES[source].stock
    for category in (TOTAL, *categories_shown(source)):
        values = [
            None if gone else _cell(pub, source, category, p)
            for p, gone in zip((current, previous, fytd), before, strict=True)
        ]
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
        blocks.append(context(t("linknet.chart_follows", months=trend_span(pub))).to_dict())
    blocks.append(context(t("linknet.footer")).to_dict())
    return t("linknet.text", period=period_label(current)), blocks


# --- the chart ------------------------------------------------------------------------------


def _trend_months(pub: Published) -> list[Month]:
    """The trend's months from the system's first record on: earlier months are not drawn
    (they are not 0 — nothing was recorded then); the last month always is."""
    months = [m for m in pub.layout.trend if not pub.before_start(Period.month(m))]
    return months or list(pub.layout.trend[-1:])


def trend_span(pub: Published) -> str:
    """What the chart draws, in words: 「2026年10月〜2026年11月」 (a new system has fewer than
    the layout's twelve months), 「2026年11月」 for one month."""
    months = _trend_months(pub)
    if months[0] == months[-1]:
        return month_label(months[0])
    return t("linknet.period_span", first=month_label(months[0]), last=month_label(months[-1]))


X_LABELS = 6  # at most this many month labels: legible at Slack's preview size


def _x_labels(months: list[Month]) -> tuple[str, ...]:
    """Every other (or third) month labelled, the latest always; the year on the first label
    and on the first label of each new year."""
    step = -(-len(months) // X_LABELS)
    out, year = [], None
    for i, m in enumerate(months):
        if (len(months) - 1 - i) % step:
            out.append("")
        elif m.year != year:
            out.append(t("linknet.chart.x_year_month", year=m.year, month=m.month))
            year = m.year
        else:
            out.append(t("linknet.chart.x_month", month=m.month))
    return tuple(out)


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
        title=t("linknet.chart.title", months=trend_span(pub)),
        x_labels=_x_labels(months),
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


def column_label(pub: Published, p: Period, *, over: bool) -> str:
    """令和8年度, or 令和8年度（2026年4月〜2026年11月） while the year is not over or when the
    system started within it."""
    shown = pub.from_start(p)
    fy = p.first.fiscal_year
    if over and shown == p:
        return t("linknet.report.col_year", year=fiscal_year_label(fy))
    short = t("linknet.report.fiscal_year_short", reiwa=reiwa(fy))
    return t("linknet.report.col_part", year=short, span=period_label(shown))


def report_item(source: str) -> str:
    """A table's heading: what is counted and how (実人数 / 延べ件数)."""
    return t(
        "linknet.report.item", label=t(f"linknet.report.source.{source}"), unit=unit_label(source)
    )


def report_rows(pub: Published, *, over: bool) -> list[list[str | int]]:
    """Rows a clerk can paste into the national report: item, category, this year, last year.
    Numbers are ints; a year before the system's first record is "—" (not 0)."""
    current, previous = pub.layout.columns
    rows: list[list[str | int]] = [
        [
            t("linknet.report.col_item"),
            t("linknet.report.col_category"),
            column_label(pub, current, over=over),
            column_label(pub, previous, over=True),
        ]
    ]
    for source in SOURCES:
        if SOURCES[source].stock:
            continue  # a month's end has no yearly figure
        if source in pub.withheld:
            rows.append([report_item(source), "", t("linknet.report.withheld"), ""])
            continue
        for category in (TOTAL, *categories_shown(source)):
            rows.append(
                [
                    report_item(source) if category == TOTAL else "",
                    category_label(source, category),
                    *(
                        report_figure(
                            None if pub.before_start(p) else _cell(pub, source, category, p)
                        )
                        for p in (current, previous)
                    ),
                ]
            )
    return rows


def report_figure(s: Shown | None) -> str | int:
    """A cell for the report table: the number itself (for pasting), the suppression mark, or
    "—" where nothing was recorded."""
    if s is None:
        return t("linknet.not_shown")
    if s.display is Display.value:
        return s.value
    return figure(s, s.k)
