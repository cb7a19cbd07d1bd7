"""The demo page: recorded Slack traffic in, one self-contained HTML page out. Pure.

- Block Kit → HTML for the blocks and elements the bot uses (and a few more), drawn close to
  Slack's look; inputs are drawn, never live form controls.
- Slack mrkdwn → HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <@U…> as @name,
  <#C…> as #channel, <url|text> links, and the entities &lt; &gt; &amp;.
- Every text is HTML-escaped; the page has no script, and its Content-Security-Policy allows
  none, nor any image but inline data: URIs — nothing in a message can run or call out.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from handlers.common.texts import t
from models.base.clock import TOKYO
from sandbox.demo.record import Conversation, Entry, Kind, Person, Recording, dm_of

WEEKDAYS = "月火水木金土日"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"
SAFE_SCHEMES = ("http://", "https://", "mailto:")
EMOJI = {
    "warning": "⚠️",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "bell": "🔔",
    "calendar": "📅",
    "memo": "📝",
    "page_facing_up": "📄",
    "bar_chart": "📊",
    "lock": "🔒",
    "clock3": "🕒",
    "hourglass": "⌛",
    "information_source": "ℹ️",
    "x": "❌",
    "eyes": "👀",
    "house": "🏠",
    "busts_in_silhouette": "👥",
    "pushpin": "📌",
}


@dataclass
class Names:
    """How ids are shown: users as @name, channels as #name."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    bot_user: str = "UBOT"
    bot_name: str = "tsunagi"

    def user(self, user_id: str) -> str:
        if user_id == self.bot_user:
            return self.bot_name
        return self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- mrkdwn ---------------------------------------------------------------------------------------

_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_PH_OPEN}(\\d+){_PH_CLOSE}")
_ANGLE = re.compile(r"<([^<>\n]+)>")
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")


def _span(marker: str) -> re.Pattern:
    m = re.escape(marker)
    # Slack's rule, made lenient for Japanese: the marker must not touch an ASCII letter or digit
    # outside, nor whitespace inside; no line break inside.
    return re.compile(
        rf"(?<![A-Za-z0-9{m}]){m}(?![\s{m}])([^\n{m}]*?[^\s{m}]){m}(?![A-Za-z0-9{m}])"
    )


_BOLD, _ITALIC, _STRIKE = _span("*"), _span("_"), _span("~")


def unescape_entities(text: str) -> str:
    """Slack's three entities; &amp; last so "&amp;lt;" stays "&lt;" as written."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(target: str, label: str | None) -> str:
    target = unescape_entities(target)
    shown = unescape_entities(label) if label else target
    if target.lower().startswith(SAFE_SCHEMES):
        return (
            f'<a class="link" href="{esc(target)}" rel="noopener noreferrer nofollow" '
            f'target="_blank">{esc(shown)}</a>'
        )
    return f'<span class="link">{esc(shown)}</span>'


def _angle(token: str, names: Names) -> str:
    """<@U…>, <#C…>, <!here>, <!date^…|fallback>, <url|text>."""
    body, _, label = token.partition("|")
    if body.startswith("@"):
        user = body[1:]
        shown = names.users.get(user) or (unescape_entities(label) if label else names.user(user))
        return f'<span class="mention">@{esc(shown)}</span>'
    if body.startswith("#"):
        channel = body[1:]
        shown = names.channels.get(channel) or (unescape_entities(label) if label else channel)
        return f'<span class="mention">#{esc(shown)}</span>'
    if body.startswith("!"):
        special = body[1:]
        if special in ("here", "channel", "everyone"):
            return f'<span class="mention special">@{esc(special)}</span>'
        if special.startswith("subteam^"):
            return f'<span class="mention">{esc(unescape_entities(label) or "@group")}</span>'
        return esc(unescape_entities(label)) if label else ""
    return _link(body, label or None)


def _emoji(match: re.Match) -> str:
    return EMOJI.get(match.group(1), match.group(0))


def _inline(text: str, names: Names, held: list[str]) -> str:
    def hold(fragment: str) -> str:
        held.append(fragment)
        return f"{_PH_OPEN}{len(held) - 1}{_PH_CLOSE}"

    text = _CODE.sub(lambda m: hold(f"<code>{esc(unescape_entities(m.group(1)))}</code>"), text)
    text = _ANGLE.sub(lambda m: hold(_angle(m.group(1), names)), text)
    text = esc(unescape_entities(text))
    text = _EMOJI.sub(_emoji, text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    text = _STRIKE.sub(r"<s>\1</s>", text)
    return text


def _lines(text: str) -> str:
    """Line breaks, and "> " quotes (already escaped to &gt;) as blockquotes."""
    out: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        if line.startswith("&gt;"):
            quote.append(line[4:].removeprefix(" "))
            continue
        if quote:
            out.append(f"<blockquote>{'<br>'.join(quote)}</blockquote>")
            quote = []
        out.append(line + "<br>")
    if quote:
        out.append(f"<blockquote>{'<br>'.join(quote)}</blockquote>")
    joined = "".join(out)
    return joined.removesuffix("<br>")


def mrkdwn(text: str, names: Names) -> str:
    """Slack mrkdwn as safe HTML."""
    text = str(text).replace(_PH_OPEN, "").replace(_PH_CLOSE, "")
    held: list[str] = []
    parts = text.split("```")
    if len(parts) % 2 == 0:  # an unclosed ``` is literal text
        parts[-2:] = ["```".join(parts[-2:])]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            body = unescape_entities(part.strip("\n"))
            out.append(f"<pre>{esc(body)}</pre>")
        else:
            out.append(_lines(_inline(part, names, held)))
    rendered = "".join(out)
    return _PLACEHOLDER.sub(lambda m: held[int(m.group(1))], rendered)


def plain_text(text: str) -> str:
    escaped = esc(text)
    return _EMOJI.sub(_emoji, escaped).replace("\n", "<br>")


def text_object(obj: dict | str | None, names: Names) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return plain_text(obj)
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text", ""), names)
    return plain_text(obj.get("text", ""))


# --- elements -------------------------------------------------------------------------------------


def _options(element: dict) -> list[dict]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found += group.get("options") or []
    return found


def _option_text(element: dict, value: str | None, names: Names) -> str | None:
    for opt in _options(element):
        if opt.get("value") == value:
            return text_object(opt.get("text"), names)
    return None


def _selected(element: dict, value) -> list[str]:
    """The values chosen: as submitted, else the element's initial ones."""
    if value is not None:
        return [v for v in (value if isinstance(value, list) else [value]) if v is not None]
    chosen = []
    if element.get("initial_option"):
        chosen.append(element["initial_option"].get("value"))
    for opt in element.get("initial_options") or []:
        chosen.append(opt.get("value"))
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if element.get(key):
            chosen.append(element[key])
    chosen += element.get("initial_users") or []
    chosen += element.get("initial_conversations") or []
    chosen += element.get("initial_channels") or []
    return chosen


def _placeholder(element: dict, names: Names, default: str) -> str:
    shown = text_object(element.get("placeholder"), names) if element.get("placeholder") else ""
    return f'<span class="placeholder">{shown or esc(default)}</span>'


def button(element: dict, names: Names) -> str:
    style = element.get("style")
    cls = "btn" + (f" btn-{style}" if style in ("primary", "danger") else "")
    label = text_object(element.get("text"), names)
    link = ' <span class="ext">↗</span>' if element.get("url") else ""
    return f'<span class="{cls}">{label}{link}</span>'


def _choice_label(element: dict, value, names: Names) -> str:
    if isinstance(value, dict):  # an option as the bot offered it (external selects)
        return text_object(value.get("text"), names)
    kind = element.get("type", "")
    if kind.startswith(("users", "multi_users")):
        return esc("@" + names.user(value))
    if kind.startswith(("conversations", "channels", "multi_conversations", "multi_channels")):
        return esc("#" + names.channel(value))
    return _option_text(element, value, names) or esc(value)


def element_html(element: dict, names: Names, value=None, *, in_input: bool = False) -> str:
    kind = element.get("type", "")
    if kind == "button":
        return button(element, names)
    if kind == "overflow":
        return '<span class="btn overflow" title="その他">⋮</span>'
    if kind == "image":
        return image_html(element.get("image_url", ""), element.get("alt_text", ""), small=True)
    if kind == "radio_buttons" or kind == "checkboxes":
        chosen = set(_selected(element, value))
        mark = "radio" if kind == "radio_buttons" else "check"
        rows = []
        for opt in _options(element):
            on = " on" if opt.get("value") in chosen else ""
            desc = opt.get("description")
            extra = f'<div class="opt-desc">{text_object(desc, names)}</div>' if desc else ""
            rows.append(
                f'<div class="choice"><span class="{mark}{on}"></span>'
                f"<span>{text_object(opt.get('text'), names)}{extra}</span></div>"
            )
        return f'<div class="choices">{"".join(rows)}</div>'
    if kind.startswith("multi_"):
        chosen = _selected(element, value)
        if chosen:
            chips = "".join(
                f'<span class="chip">{_choice_label(element, v, names)}</span>' for v in chosen
            )
            return f'<div class="box multi">{chips}</div>'
        return f'<div class="box multi">{_placeholder(element, names, "選択してください")}</div>'
    if kind.endswith("_select"):
        chosen = _selected(element, value)
        shown = (
            _choice_label(element, chosen[0], names)
            if chosen
            else _placeholder(element, names, "選択してください")
        )
        cls = "box select" if in_input else "select"
        return f'<span class="{cls}">{shown}<span class="caret">▾</span></span>'
    if kind == "datepicker":
        day = value if value is not None else element.get("initial_date")
        shown = esc(day) if day else _placeholder(element, names, "日付を選ぶ")
        return f'<span class="box picker"><span class="icon">📅</span>{shown}</span>'
    if kind == "timepicker":
        at = value if value is not None else element.get("initial_time")
        shown = esc(at) if at else _placeholder(element, names, "時刻を選ぶ")
        return f'<span class="box picker"><span class="icon">🕘</span>{shown}</span>'
    if kind == "datetimepicker":
        at = value if value is not None else element.get("initial_date_time")
        if isinstance(at, int | float):
            at = datetime.fromtimestamp(at, TOKYO).strftime("%Y-%m-%d %H:%M")
        shown = esc(at) if at else _placeholder(element, names, "日時を選ぶ")
        return f'<span class="box picker"><span class="icon">📅</span>{shown}</span>'
    if kind in (
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
    ):
        text = value if value is not None else element.get("initial_value")
        if kind == "rich_text_input" and isinstance(text, dict):
            inner = rich_text({"elements": text.get("elements", [])}, names)
        elif text not in (None, ""):
            inner = plain_text(str(text))
        else:
            inner = _placeholder(element, names, "")
        cls = "box textarea" if element.get("multiline") else "box"
        return f'<div class="{cls}">{inner}</div>'
    return f'<span class="box unknown">{esc(kind)}</span>'


def image_html(url: str, alt: str, *, title: str = "", small: bool = False) -> str:
    """Only inline data: images are drawn; anything else is named, never fetched."""
    cls = "img-small" if small else "img"
    if url.startswith("data:image/"):
        return f'<img class="{cls}" src="{esc(url)}" alt="{esc(alt)}">'
    return f'<span class="img-missing {cls}" title="{esc(url)}">🖼 {esc(alt or title)}</span>'


# --- rich text ------------------------------------------------------------------------------------


def _rich_inline(el: dict, names: Names) -> str:
    kind = el.get("type")
    if kind == "text":
        out = plain_text(el.get("text", ""))
    elif kind == "link":
        out = _link(el.get("url", ""), el.get("text"))
    elif kind == "user":
        out = f'<span class="mention">@{esc(names.user(el.get("user_id", "")))}</span>'
    elif kind == "channel":
        out = f'<span class="mention">#{esc(names.channel(el.get("channel_id", "")))}</span>'
    elif kind == "emoji":
        out = esc((el.get("unicode") and chr(int(el["unicode"].split("-")[0], 16))) or "")
        out = out or EMOJI.get(el.get("name", ""), f":{esc(el.get('name', ''))}:")
    elif kind == "broadcast":
        out = f'<span class="mention special">@{esc(el.get("range", "here"))}</span>'
    else:
        out = esc(el.get("text", ""))
    style = el.get("style") or {}
    if style.get("code"):
        out = f"<code>{out}</code>"
    if style.get("bold"):
        out = f"<b>{out}</b>"
    if style.get("italic"):
        out = f"<i>{out}</i>"
    if style.get("strike"):
        out = f"<s>{out}</s>"
    return out


def rich_text(block: dict, names: Names) -> str:
    parts = []
    for el in block.get("elements") or []:
        kind = el.get("type")
        inner = "".join(_rich_inline(e, names) for e in el.get("elements") or [])
        if kind == "rich_text_section":
            parts.append(f"<div>{inner}</div>")
        elif kind == "rich_text_preformatted":
            parts.append(f"<pre>{inner}</pre>")
        elif kind == "rich_text_quote":
            parts.append(f"<blockquote>{inner}</blockquote>")
        elif kind == "rich_text_list":
            tag = "ol" if el.get("style") == "ordered" else "ul"
            items = "".join(
                f"<li>{''.join(_rich_inline(e, names) for e in item.get('elements') or [])}</li>"
                for item in el.get("elements") or []
            )
            parts.append(f"<{tag}>{items}</{tag}>")
    return f'<div class="rich">{"".join(parts)}</div>'


# --- blocks ---------------------------------------------------------------------------------------


def block_html(
    block: dict, names: Names, *, values: dict | None = None, errors: dict | None = None
) -> str:
    kind = block.get("type")
    if kind == "section":
        body = text_object(block.get("text"), names) if block.get("text") else ""
        fields = block.get("fields") or []
        if fields:
            cells = "".join(f'<div class="field">{text_object(f, names)}</div>' for f in fields)
            body += f'<div class="fields">{cells}</div>'
        accessory = block.get("accessory")
        side = f'<div class="accessory">{element_html(accessory, names)}</div>' if accessory else ""
        return f'<div class="b-section"><div class="b-text">{body}</div>{side}</div>'
    if kind == "header":
        return f'<div class="b-header">{text_object(block.get("text"), names)}</div>'
    if kind == "divider":
        return '<hr class="b-divider">'
    if kind == "context":
        items = []
        for el in block.get("elements") or []:
            if el.get("type") == "image":
                url, alt = el.get("image_url", ""), el.get("alt_text", "")
                items.append(image_html(url, alt, small=True))
            else:
                items.append(f"<span>{text_object(el, names)}</span>")
        return f'<div class="b-context">{"".join(items)}</div>'
    if kind == "actions":
        items = "".join(element_html(el, names) for el in block.get("elements") or [])
        return f'<div class="b-actions">{items}</div>'
    if kind == "input":
        return _input_block(block, names, values or {}, errors or {})
    if kind == "image":
        title = text_object(block.get("title"), names) if block.get("title") else ""
        img = image_html(block.get("image_url", ""), block.get("alt_text", ""))
        cap = f'<div class="b-image-title">{title}</div>' if title else ""
        return f'<div class="b-image">{cap}{img}</div>'
    if kind == "rich_text":
        return rich_text(block, names)
    if kind == "file":
        return '<div class="b-file">📎 ファイル</div>'
    return f'<div class="b-unknown">（表示できないブロック：{esc(kind)}）</div>'


def _input_block(block: dict, names: Names, values: dict, errors: dict) -> str:
    block_id = block.get("block_id")
    element = block.get("element") or {}
    label = text_object(block.get("label"), names)
    optional = ' <span class="optional">（任意）</span>' if block.get("optional") else ""
    value = values.get(block_id) if block_id in values else None
    error = errors.get(block_id)
    hint = block.get("hint")
    parts = [
        f'<div class="in-label">{label}{optional}</div>',
        element_html(element, names, value, in_input=True),
    ]
    if error:
        parts.append(f'<div class="in-error">⚠ {plain_text(str(error))}</div>')
    if hint:
        parts.append(f'<div class="in-hint">{text_object(hint, names)}</div>')
    cls = "b-input has-error" if error else "b-input"
    return f'<div class="{cls}">{"".join(parts)}</div>'


def blocks_html(
    blocks: Iterable[dict], names: Names, *, values: dict | None = None, errors: dict | None = None
) -> str:
    return "".join(block_html(b, names, values=values, errors=errors) for b in blocks or [])


def _empty_optional(block: dict, values: dict, errors: dict) -> bool:
    if block.get("type") != "input" or not block.get("optional"):
        return False
    block_id = block.get("block_id")
    if block_id in errors:
        return False
    value = values.get(block_id)
    element = block.get("element") or {}
    initial = (
        _selected(element, None) or element.get("initial_value") or element.get("initial_date")
    )
    return value in (None, "", []) and not initial


def modal_html(
    view: dict, names: Names, *, values: dict | None = None, errors: dict | None = None
) -> str:
    title = text_object(view.get("title"), names)
    close = text_object(view.get("close"), names) if view.get("close") else esc("キャンセル")
    submit = text_object(view.get("submit"), names) if view.get("submit") else ""
    foot = f'<span class="btn">{close}</span>'
    if submit:
        foot += f'<span class="btn btn-primary">{submit}</span>'
    blocks = view.get("blocks") or []
    skipped = 0
    if values is not None:  # as sent: empty optional fields are only counted
        kept = [b for b in blocks if not _empty_optional(b, values, errors or {})]
        skipped, blocks = len(blocks) - len(kept), kept
    body = blocks_html(blocks, names, values=values, errors=errors)
    if skipped:
        body += f'<div class="b-context">{esc(t("demo.page.empty_fields", count=skipped))}</div>'
    return (
        '<div class="modal">'
        f'<div class="modal-head"><span class="app-icon">つ</span>'
        f'<span class="modal-title">{title}</span><span class="modal-x">×</span></div>'
        f'<div class="modal-body">{body}</div>'
        f'<div class="modal-foot">{foot}</div></div>'
    )


def home_html(view: dict | None, names: Names) -> str:
    tabs = (
        '<div class="home-tabs"><span class="on">ホーム</span><span>メッセージ</span>'
        "<span>情報</span></div>"
    )
    head = (
        '<div class="home-head"><span class="app-icon big">つ</span>'
        f"<b>{esc(names.bot_name)}</b></div>{tabs}"
    )
    if view is None:
        return f'<div class="home">{head}<p class="empty">{esc(t("demo.page.no_home"))}</p></div>'
    body = blocks_html(view.get("blocks") or [], names)
    return f'<div class="home">{head}<div class="home-body">{body}</div></div>'


# --- the page -------------------------------------------------------------------------------------


def jst(at: datetime) -> datetime:
    return at.astimezone(TOKYO)


def day_label(at: datetime) -> str:
    local = jst(at)
    return f"{local.month}月{local.day}日（{WEEKDAYS[local.weekday()]}）"


def clock_label(at: datetime) -> str:
    return jst(at).strftime("%-H:%M")


def where_label(entry: Entry, person: Person, conversations: dict[str, Conversation]) -> str:
    conv = entry.conversation
    if conv == dm_of(person.user_id):
        return t("demo.page.where_dm")
    if conv is None:
        return ""
    found = conversations.get(conv)
    name = found.name if found else conv
    lock = "🔒" if found and found.private else "#"
    return f"{lock}{name}"


def _message(entry: Entry, person: Person, rec: Recording, names: Names) -> str:
    where = where_label(entry, person, rec.conversations)
    body = blocks_html(entry.blocks, names) if entry.blocks else mrkdwn(entry.text or "", names)
    edited = ""
    cls = "msg"
    if entry.kind is Kind.update:
        edited = f'<span class="tag">{esc(t("demo.page.updated"))}</span>'
        cls += " updated"
    if entry.kind is Kind.ephemeral:
        cls += " ephemeral"
    if entry.kind is Kind.file and entry.upload is not None:
        up = entry.upload
        comment = f'<div class="b-text">{mrkdwn(up.comment, names)}</div>' if up.comment else ""
        data = "data:image/png;base64," + base64.b64encode(up.content).decode("ascii")
        body = (
            f'{comment}<figure class="upload"><div class="upload-title">{esc(up.title)}'
            f"</div>{image_html(data, up.alt_text)}"
            f"<figcaption>{esc(t('demo.page.alt_text'))}：{esc(up.alt_text)}</figcaption></figure>"
        )
    thread = ""
    if entry.thread_ts and entry.thread_ts != entry.ts:
        thread = f'<span class="tag">{esc(t("demo.page.thread"))}</span>'
    only_you = ""
    if entry.kind in (Kind.ephemeral, Kind.reply):
        cls += " ephemeral"
        only_you = f'<div class="only-you">👁 {esc(t("demo.page.only_you"))}</div>'
    return (
        f'<div class="{cls}"><div class="avatar bot">つ</div><div class="msg-main">'
        f'<div class="msg-head"><b>{esc(names.bot_name)}</b><span class="app">アプリ</span>'
        f'<time>{clock_label(entry.at)}</time><span class="where">{esc(where)}</span>'
        f'{edited}{thread}</div>{only_you}<div class="msg-body">{body}</div></div></div>'
    )


def _has_inputs(view: dict | None) -> bool:
    return any(b.get("type") == "input" for b in (view or {}).get("blocks") or [])


def _modal_entry(entry: Entry, names: Names, *, filled_later: bool = False) -> str:
    if entry.kind is Kind.submitted and not entry.errors and not _has_inputs(entry.view):
        return ""  # a form with nothing to fill in: the ▶ line says it was sent
    if filled_later:  # the empty form, folded: the filled-in one follows
        title = ((entry.view or {}).get("title") or {}).get("text", "")
        return (
            f'<details class="modal-entry folded"><summary><time>{clock_label(entry.at)}</time>'
            f"{esc(t('demo.page.modal_folded', title=title))}</summary>"
            f"{modal_html(entry.view or {}, names)}</details>"
        )
    captions = {
        Kind.modal: "demo.page.modal_pushed" if entry.pushed else "demo.page.modal_opened",
        Kind.modal_update: "demo.page.modal_updated",
        Kind.submitted: "demo.page.modal_errors" if entry.errors else "demo.page.modal_submitted",
    }
    caption = t(captions[entry.kind])
    cls = "modal-entry errors" if entry.errors else "modal-entry"
    modal = modal_html(entry.view or {}, names, values=entry.values, errors=entry.errors)
    return (
        f'<div class="{cls}"><div class="entry-caption"><time>{clock_label(entry.at)}</time>'
        f"{esc(caption)}</div>{modal}</div>"
    )


def _action(entry: Entry) -> str:
    return (
        f'<div class="act"><time>{clock_label(entry.at)}</time>'
        f'<span class="act-mark">▶</span>{esc(entry.text)}</div>'
    )


def entry_html(
    entry: Entry, person: Person, rec: Recording, names: Names, *, filled: set[str] = frozenset()
) -> str:
    if entry.kind in (Kind.message, Kind.update, Kind.file, Kind.ephemeral, Kind.reply):
        return _message(entry, person, rec, names)
    if entry.kind in (Kind.modal, Kind.modal_update, Kind.submitted):
        later = entry.kind is not Kind.submitted and entry.view_id in filled
        return _modal_entry(entry, names, filled_later=later)
    if entry.kind is Kind.action:
        return _action(entry)
    return ""


def names_of(rec: Recording) -> Names:
    return Names(
        users=rec.names(),
        channels={c.id: c.name for c in rec.conversations.values()},
        bot_name=rec.bot_name,
    )


def person_id(person: Person) -> str:
    return "person-" + re.sub(r"[^A-Za-z0-9_-]", "", person.user_id)


def _avatar(person: Person, *, big: bool = False) -> str:
    initial = person.name.split()[-1][:1] if person.name.strip() else "?"
    hue = sum(map(ord, person.user_id)) * 47 % 360
    cls = "avatar big" if big else "avatar"
    return f'<span class="{cls}" style="background:hsl({hue},45%,42%)">{esc(initial)}</span>'


def person_html(person: Person, rec: Recording, names: Names) -> str:
    seen = [e for e in rec.entries if e.seen_by(person) and e.kind is not Kind.home]
    homes = [e for e in rec.entries if e.kind is Kind.home and e.user == person.user_id]
    channels = "、".join(
        ("🔒" if rec.conversations[c].private else "#") + rec.conversations[c].name
        for c in person.conversations
        if c in rec.conversations
    ) or t("demo.page.no_channels")
    roles = "".join(f'<span class="role">{esc(r)}</span>' for r in person.roles)
    head = (
        f'<div class="person-head">{_avatar(person, big=True)}<div>'
        f'<h2>{esc(person.name)}</h2><div class="agency">{esc(person.agency)} {roles}</div>'
        f'<div class="channels">{esc(t("demo.page.channels"))}：{esc(channels)}</div>'
        f"</div></div>"
    )
    feed: list[str] = []
    day = None
    for i, entry in enumerate(seen):
        # A form that was filled in and sent later is shown folded where it opened.
        filled = {
            e.view_id
            for e in seen[i + 1 :]
            if e.kind is Kind.submitted and e.view_id and _has_inputs(e.view)
        }
        label = day_label(entry.at)
        if label != day:
            feed.append(f'<div class="day"><span>{esc(label)}</span></div>')
            day = label
        feed.append(entry_html(entry, person, rec, names, filled=filled))
    if not feed:
        feed.append(f'<p class="empty">{esc(t("demo.page.nothing_seen"))}</p>')
    latest = homes[-1] if homes else None
    home_note = (
        t("demo.page.home_as_of", when=f"{day_label(latest.at)} {clock_label(latest.at)}")
        if latest
        else t("demo.page.home_never")
    )
    count = t("demo.page.count", count=len(seen))
    return (
        f'<section class="person" id="{person_id(person)}" data-user="{esc(person.user_id)}">'
        f'{head}<div class="person-body">'
        f'<div class="timeline"><h3>{esc(t("demo.page.timeline"))}'
        f'<span class="count">{esc(count)}</span></h3>{"".join(feed)}</div>'
        f'<aside class="home-pane"><h3>{esc(t("demo.page.home"))}</h3>'
        f'<div class="home-note">{esc(home_note)}</div>'
        f"{home_html(latest.view if latest else None, names)}</aside>"
        f"</div></section>"
    )


def _groups(people: list[Person]) -> list[tuple[str, list[Person]]]:
    groups: dict[str, list[Person]] = {}
    for p in people:
        groups.setdefault(p.agency, []).append(p)
    return list(groups.items())


def sidebar_html(rec: Recording) -> str:
    parts = [
        f'<div class="ws">{esc(t("demo.page.workspace"))}</div>'
        f'<div class="ws-sub">{esc(rec.period)}</div>'
    ]
    for agency, people in _groups(rec.people):
        links = "".join(
            f'<a href="#{person_id(p)}">{_avatar(p)}<span>{esc(p.name)}</span></a>' for p in people
        )
        parts.append(f'<div class="group"><div class="group-name">{esc(agency)}</div>{links}</div>')
    return f'<nav class="sidebar">{"".join(parts)}</nav>'


def intro_html(rec: Recording) -> str:
    names = names_of(rec)
    by_id = {p.user_id: p for p in rec.people}

    def who(scene) -> str:
        links = "、".join(
            f'<a href="#{person_id(by_id[u])}">{esc(by_id[u].name)}</a>'
            for u in scene.people
            if u in by_id
        )
        return f'<span class="who">→ {links}</span>' if links else ""

    scenes = "".join(
        f"<li><time>{esc(day_label(s.at))} {esc(clock_label(s.at))}</time>"
        f"<span>{esc(s.text)}{who(s)}</span></li>"
        for s in rec.scenes
    )
    toc = "".join(
        f"<li><b>{esc(agency)}</b>："
        + "、".join(f'<a href="#{person_id(p)}">{esc(p.name)}</a>' for p in people)
        + "</li>"
        for agency, people in _groups(rec.people)
    )
    paragraphs = "".join(f"<p>{mrkdwn(t(f'demo.page.intro_{i}'), names)}</p>" for i in range(1, 6))
    return (
        f'<header class="intro"><h1>{esc(rec.title)}</h1>'
        f'<div class="period">{esc(rec.period)}</div>'
        f'<div class="synthetic">⚠ {esc(t("demo.page.synthetic"))}</div>{paragraphs}'
        f'<h2>{esc(t("demo.page.scenes"))}</h2><ol class="scenes">{scenes}</ol>'
        f'<h2>{esc(t("demo.page.toc"))}</h2><ul class="toc">{toc}</ul></header>'
    )


def render_page(rec: Recording) -> str:
    names = names_of(rec)
    people = "".join(person_html(p, rec, names) for p in rec.people)
    return (
        "<!doctype html>\n"
        '<html lang="ja"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(rec.title)}</title><style>{STYLE}</style></head>"
        f"<body>{sidebar_html(rec)}<main>{intro_html(rec)}{people}"
        f"<footer>{esc(t('demo.page.footer'))}</footer></main></body></html>\n"
    )


STYLE = """
:root{--ink:#1d1c1d;--muted:#616061;--line:#dddddd;--blue:#1264a3;--green:#007a5a;
--red:#e01e5a;--aubergine:#3f0e40;--bg:#f8f8f8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 "Lato","Hiragino Sans","Hiragino Kaku Gothic ProN","Noto Sans CJK JP",
"Noto Sans JP","IPAexGothic","Yu Gothic","Meiryo",sans-serif;color:var(--ink);background:#fff;
display:flex;min-height:100vh}
a{color:var(--blue);text-decoration:none}
a:hover{text-decoration:underline}
time{color:var(--muted);font-size:12px}
.sidebar{width:250px;flex:none;background:var(--aubergine);color:#cfc3cf;padding:14px 0;
position:sticky;top:0;height:100vh;overflow:auto}
.sidebar .ws{color:#fff;font-weight:900;font-size:17px;padding:0 16px}
.sidebar .ws-sub{font-size:12px;padding:0 16px 10px;border-bottom:1px solid #5d3a5e}
.sidebar .group{padding:8px 0}
.sidebar .group-name{font-size:12px;padding:2px 16px;color:#bcabbc}
.sidebar a{display:flex;align-items:center;gap:8px;color:#e8e0e8;padding:3px 16px;font-size:14px}
.sidebar a:hover{background:#350d36;text-decoration:none}
.sidebar .avatar{width:20px;height:20px;font-size:11px;border-radius:4px}
main{flex:1;min-width:0;padding:0 28px 40px;background:#fff}
.intro{max-width:980px;padding:24px 0 8px}
.intro h1{font-size:26px;margin:0 0 4px}
.intro h2{font-size:18px;margin:22px 0 8px}
.intro .period{color:var(--muted)}
.synthetic{margin:12px 0;padding:10px 14px;border-left:4px solid #e8912d;background:#fff6e8;
font-weight:700}
.scenes{padding-left:1.4em;margin:0}
.scenes li{margin:3px 0}
.scenes time{display:inline-block;min-width:150px;font-size:13px}
.toc{padding-left:1.2em;margin:0}
.who{margin-left:8px;font-size:13px;white-space:nowrap}
.person{border-top:1px solid var(--line);padding:24px 0 12px}
.person-head{display:flex;gap:14px;align-items:center;margin-bottom:12px}
.person-head h2{margin:0;font-size:22px}
.agency{color:var(--muted)}
.channels{font-size:13px;color:var(--muted)}
.role{display:inline-block;font-size:12px;background:#eef4f8;color:var(--blue);border-radius:10px;
padding:0 8px;margin-left:4px}
.avatar{display:inline-flex;align-items:center;justify-content:center;width:36px;height:36px;
border-radius:6px;color:#fff;font-weight:700;flex:none}
.avatar.big{width:56px;height:56px;font-size:26px;border-radius:10px}
.avatar.bot{background:#2eb67d}
.person-body{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:24px;
align-items:start}
@media (max-width:1100px){.person-body{grid-template-columns:1fr}.sidebar{display:none}}
.timeline h3,.home-pane h3{font-size:15px;margin:0 0 8px;color:var(--muted)}
.count{font-weight:400;margin-left:8px;font-size:13px}
.day{display:flex;align-items:center;margin:14px 0 8px}
.day:before,.day:after{content:"";flex:1;border-top:1px solid var(--line)}
.day span{border:1px solid var(--line);border-radius:14px;padding:2px 14px;font-size:13px;
font-weight:700;background:#fff}
.msg{display:flex;gap:10px;padding:8px 10px;border-radius:6px}
.msg:hover{background:var(--bg)}
.msg.updated{opacity:.93;border-left:3px solid #c9c9c9}
.msg.ephemeral{background:#f4f8fb}
.msg-main{min-width:0;flex:1}
.msg-head{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.msg-head b{font-weight:900}
.app{font-size:10px;background:#e8e8e8;color:var(--muted);border-radius:2px;padding:0 3px;
font-weight:700}
.where{font-size:12px;color:var(--blue);background:#eef4f8;border-radius:4px;padding:0 6px}
.tag{font-size:11px;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 5px}
.only-you{font-size:12px;color:var(--muted)}
.msg-body{word-wrap:break-word;overflow-wrap:anywhere}
.b-section{display:flex;gap:12px;margin:4px 0}
.b-text{flex:1;min-width:0}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:6px 16px;margin-top:6px}
.accessory{flex:none}
.b-header{font-weight:900;font-size:18px;margin:8px 0 4px}
.b-divider{border:0;border-top:1px solid var(--line);margin:10px 0}
.b-context{display:flex;flex-wrap:wrap;gap:8px;align-items:center;font-size:12px;color:var(--muted);
margin:4px 0}
.b-context .img-small{width:16px;height:16px}
.b-actions{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.btn{display:inline-flex;align-items:center;height:28px;padding:0 12px;border:1px solid
rgba(29,28,29,.3);border-radius:4px;font-size:13px;font-weight:700;background:#fff;white-space:nowrap}
.btn-primary{background:var(--green);border-color:var(--green);color:#fff}
.btn-danger{background:var(--red);border-color:var(--red);color:#fff}
.overflow{padding:0 8px}
.select{display:inline-flex;align-items:center;gap:6px;height:28px;padding:0 10px;border:1px solid
rgba(29,28,29,.3);border-radius:4px;font-size:13px;background:#fff}
.caret{color:var(--muted);margin-left:auto;padding-left:8px}
.placeholder{color:#868686}
.b-input{margin:12px 0}
.in-label{font-weight:700;margin-bottom:4px}
.optional{font-weight:400;color:var(--muted);font-size:13px}
.box{display:flex;align-items:center;min-height:36px;padding:6px 10px;border:1px solid #868686;
border-radius:4px;background:#fff;font-size:14px}
.box.textarea{min-height:72px;align-items:flex-start}
.box.select{gap:6px}
.box.multi{flex-wrap:wrap;gap:4px}
.box.picker{display:inline-flex;min-width:180px}
.icon{margin-right:6px}
.chip{background:#e8f5fa;border:1px solid #b8dced;border-radius:4px;padding:0 6px;font-size:13px}
.choices{display:flex;flex-direction:column;gap:4px}
.choice{display:flex;gap:8px;align-items:flex-start}
.radio,.check{flex:none;width:16px;height:16px;border:1px solid #868686;margin-top:3px;
background:#fff}
.radio{border-radius:50%}
.check{border-radius:3px}
.radio.on{border:5px solid var(--blue)}
.check.on{background:var(--blue);border-color:var(--blue)}
.opt-desc{font-size:12px;color:var(--muted)}
.in-hint{font-size:12px;color:var(--muted);margin-top:3px}
.has-error .box{border-color:var(--red);box-shadow:0 0 0 1px var(--red)}
.in-error{color:var(--red);font-size:13px;margin-top:4px;font-weight:700}
.mention{background:rgba(29,155,209,.1);color:var(--blue);border-radius:3px;padding:0 2px}
.mention.special{background:#fff3c4;color:#8a6100}
code{font-family:Monaco,Menlo,Consolas,monospace;font-size:12px;color:var(--red);background:#f6f6f6;
border:1px solid #e3e3e3;border-radius:3px;padding:0 3px}
pre{font-family:Monaco,Menlo,Consolas,monospace;font-size:12px;background:#f8f8f8;border:1px solid
#e3e3e3;border-radius:4px;padding:8px;white-space:pre-wrap;margin:4px 0}
blockquote{margin:4px 0;padding-left:10px;border-left:4px solid #ddd}
.img{max-width:100%;border:1px solid var(--line);border-radius:6px;display:block}
.img-missing{display:inline-block;border:1px dashed #aaa;padding:8px;color:var(--muted)}
.upload{margin:6px 0}
.upload-title{font-weight:700;font-size:13px;margin-bottom:4px}
.upload figcaption{font-size:12px;color:var(--muted);margin-top:4px}
.modal-entry{margin:10px 0 14px 46px}
details.folded summary{font-size:12px;color:var(--muted);cursor:pointer;display:flex;gap:8px}
details.folded[open] summary{margin-bottom:4px}
.entry-caption{font-size:12px;color:var(--muted);margin-bottom:4px;display:flex;gap:8px}
.modal-entry.errors .entry-caption{color:var(--red);font-weight:700}
.modal{max-width:540px;border-radius:8px;background:#fff;box-shadow:0 0 0 1px rgba(29,28,29,.13),
0 4px 12px rgba(0,0,0,.12)}
.modal-head{display:flex;align-items:center;gap:10px;padding:14px 20px;border-bottom:1px solid
var(--line)}
.modal-title{font-size:20px;font-weight:900;flex:1}
.modal-x{color:var(--muted);font-size:20px}
.modal-body{padding:6px 20px 10px}
.modal-foot{display:flex;justify-content:flex-end;gap:8px;padding:12px 20px;border-top:1px solid
var(--line)}
.app-icon{display:inline-flex;align-items:center;justify-content:center;width:24px;height:24px;
border-radius:5px;background:#2eb67d;color:#fff;font-weight:700;font-size:13px}
.app-icon.big{width:32px;height:32px;font-size:16px}
.act{display:flex;gap:8px;align-items:baseline;font-size:13px;color:#444;padding:6px 10px;
background:#fbf7e9;border-radius:6px;margin:6px 0}
.act-mark{color:#e8912d}
.home-pane{position:sticky;top:12px}
.home-note{font-size:12px;color:var(--muted);margin-bottom:6px}
.home{border:1px solid var(--line);border-radius:8px;overflow:hidden;background:#fff}
.home-head{display:flex;gap:8px;align-items:center;padding:10px 14px}
.home-tabs{display:flex;gap:18px;padding:0 14px;border-bottom:1px solid var(--line);font-size:14px}
.home-tabs span{padding:6px 0;color:var(--muted)}
.home-tabs .on{color:var(--ink);font-weight:700;border-bottom:2px solid var(--green)}
.home-body{padding:8px 14px 12px}
.empty{color:var(--muted);font-style:italic;padding:8px 14px}
.rich ul,.rich ol{margin:2px 0;padding-left:1.4em}
.b-unknown{color:var(--muted);font-size:12px}
footer{border-top:1px solid var(--line);margin-top:20px;padding-top:12px;font-size:12px;
color:var(--muted)}
"""
