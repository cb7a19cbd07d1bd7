"""The Home tab: the member's desk. Receipt numbers and coarse facts only — no person.

Slack allows 100 blocks in a Home view: lists are paged (models.desk.PAGE_SIZE), short lists
are packed into one section, and `MAX_BLOCKS` is checked before anything is published.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from handlers.common import forms, ids
from handlers.common.blocks import context, plain, section
from handlers.common.mrkdwn import escape
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.desk.views import case_line, waited_text
from handlers.meetings.views import home_meetings
from handlers.outreach.views import line_text, target_menu
from handlers.plans.views import home_tasks
from models.desk.lines import Desk, Page, Waiting
from models.outreach.listing import DeskSection, Due

MAX_BLOCKS = 100
OVERDUE_LINES = 10
PAGED = ("waiting", "cases", "sent", "outreach")


def _open_button(case_id: int) -> ButtonElement:
    return ButtonElement(
        text=plain(t("home.open")), action_id=ids.ACTION_CASE_DETAIL, value=str(case_id)
    )


def _pager(name: str, page: Page) -> list:
    if page.pages <= 1:
        return []
    moves = (("prev", page.has_prev, page.page - 1), ("next", page.has_next, page.page + 1))
    buttons = [
        ButtonElement(
            text=plain(t(f"home.{way}")),
            action_id=f"{ids.ACTION_HOME_PAGE}{way}",
            value=f"{name}:{to}",
        )
        for way, shown, to in moves
        if shown
    ]
    return [
        context(t("home.page", page=page.page + 1, pages=page.pages, total=page.total)),
        ActionsBlock(block_id=f"{ids.BLOCK_HOME_PAGE}{name}", elements=buttons),
    ]


def _header(code: str, **params) -> HeaderBlock:
    return HeaderBlock(text=plain(t(code, **params)[:150]))


def _waiting_line(w: Waiting) -> str:
    mark = "⚠️ " if w.overdue else ""
    due = t("home.overdue_since" if w.overdue else "home.due", due=when(w.due))
    return f"{mark}{case_line(w.line)}\n{t('home.waited', waited=waited_text(w.waited))}　{due}"


def _waiting(desk: Desk) -> list:
    page = desk.waiting
    blocks: list = [_header("home.waiting_title", count=page.total)]
    if not page.items:
        return [*blocks, context(t("home.waiting_none"))]
    for w in page.items:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=_waiting_line(w)),
                accessory=_open_button(w.line.case_id),
            )
        )
    return blocks + _pager("waiting", page)


def _overdue(desk: Desk) -> list:
    items = desk.overdue or ()
    blocks: list = [_header("home.overdue_title", count=len(items))]
    if not items:
        return [*blocks, context(t("home.overdue_none"))]
    rows = [
        t(f"desk.overdue.{i.kind}", number=i.number, due=when(i.due)) for i in items[:OVERDUE_LINES]
    ]
    if len(items) > OVERDUE_LINES:
        rows.append(t("mine.more", count=len(items) - OVERDUE_LINES))
    return [*blocks, section("\n".join(rows))]


def _by_state(desk: Desk) -> list:
    counts = desk.by_state or {}
    fields = [
        MarkdownTextObject(text=f"*{label('state', state)}*\n{t('home.count', count=n)}")
        for state, n in counts.items()
    ][:10]
    return [_header("home.by_state_title"), SectionBlock(fields=fields)]


def _meetings(desk: Desk) -> list:
    return home_meetings(desk, header=_header("home.meetings_title"))  # 開く; 会議を登録する


def _cases(desk: Desk) -> list:
    page = desk.cases
    blocks: list = [_header("home.cases_title", count=page.total)]
    if not page.items:
        return [*blocks, context(t("home.cases_none"))]
    for line in page.items:
        text = case_line(line)
        if line.lead_agency:
            text += "\n" + t("home.lead", agency=escape(line.lead_agency))
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=text), accessory=_open_button(line.case_id))
        )
    return blocks + _pager("cases", page)


def _tasks(desk: Desk) -> list:
    return home_tasks(desk)  # each with 開く; the coordinator sees all


def _sent(desk: Desk) -> list:
    page = desk.sent
    blocks: list = [_header("home.sent_title", count=page.total), context(t("home.sent_note"))]
    if not page.items:
        return [*blocks, context(t("home.sent_none"))]
    rows = [
        t(
            "home.sent_line",
            number=c.number,
            status=label("referrer_status", c.referrer_status),
            sent=when(c.created_at),
        )
        for c in page.items
    ]
    return [*blocks, section("\n".join(rows)), *_pager("sent", page)]


def _department(desk: Desk) -> list:
    where = (
        t("home.linknet_channel", channel=desk.linknet_channel)
        if desk.linknet_channel
        else t("home.linknet_no_channel")
    )
    return [_header("home.department_title"), section(t("home.department") + "\n" + where)]


def _admin(desk: Desk) -> list:
    return [_header("home.admin_title"), section(t("home.admin"))]


def _outreach(desk: Desk) -> list:
    """models/desk/sections.py SECTION_SOURCES["outreach"]: the member's contacts, or the whole
    list (the coordinator)."""
    data: DeskSection = desk.extra["outreach"]
    page = data.page
    title = "outreach.home.title_all" if data.everyone else "outreach.home.title"
    blocks: list = [_header(title, count=page.total)]
    counts = data.counts
    blocks.append(
        context(
            t(
                "outreach.home.counts",
                overdue=counts.get(Due.overdue.value, 0),
                today=counts.get(Due.today.value, 0),
                week=counts.get(Due.this_week.value, 0),
                paused=counts.get(Due.paused.value, 0),
            )
        )
    )
    if not page.items:
        blocks.append(context(t("outreach.home.none")))
    for x in page.items:
        blocks.append(
            SectionBlock(
                block_id=f"{ids.BLOCK_OUTREACH_LINE}{x.target_id}",
                text=MarkdownTextObject(text=line_text(x, with_state=data.everyone)),
                accessory=target_menu(x),
            )
        )
    blocks += _pager("outreach", page)
    if data.can_create:
        button = ButtonElement(
            text=plain(t("outreach.button.new")), action_id=ids.ACTION_OUTREACH_NEW
        )
        blocks.append(ActionsBlock(block_id=ids.BLOCK_OUTREACH_HOME, elements=[button]))
    return blocks


BUILDERS = {
    "waiting": _waiting,
    "overdue": _overdue,
    "by_state": _by_state,
    "meetings": _meetings,
    "cases": _cases,
    "tasks": _tasks,
    "sent": _sent,
    "department": _department,
    "admin": _admin,
    "outreach": _outreach,
}


def pages_of(desk: Desk) -> dict[str, int]:
    found = {}
    for name in PAGED:
        page = getattr(desk, name, None)
        if page is None and name in desk.extra:  # another feature's section: its data has .page
            page = desk.extra[name].page
        if page is not None:
            found[name] = page.page
    return found


def home_view(desk: Desk | None, *, now: datetime) -> View:
    """The desk of a registered member, or a short note for anyone else."""
    if desk is None:
        return View(type="home", blocks=[section(t("home.greeting")), section(t("home.stranger"))])
    blocks: list = [section(t("home.greeting")), context(t("home.how_to"))]
    for name in desk.sections:
        blocks += [DividerBlock(), *BUILDERS[name](desk)]
    blocks.append(context(t("home.updated", when=when(now))))
    if len(blocks) > MAX_BLOCKS:  # cannot happen with the page sizes above; never publish junk
        blocks = [*blocks[: MAX_BLOCKS - 1], context(t("home.truncated"))]
    return View(
        type="home",
        private_metadata=forms.metadata(**pages_of(desk)),
        blocks=blocks,
    )


def failed_home(text: str) -> View:
    """The Home tab when drawing the desk failed: what happened, with its reference."""
    return View(type="home", blocks=[section(t("home.greeting")), section(text)])


def read_pages(raw: str | None) -> dict[str, int]:
    """The pages shown now (from the Home view's private_metadata)."""
    try:
        return {k: int(v) for k, v in forms.read_metadata(raw).items() if k in PAGED}
    except (ValueError, TypeError):
        return {}
