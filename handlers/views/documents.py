"""Agendas and minutes, rendered from the Jinja2 templates in handlers/templates/.

The town may edit the templates without touching code. Values passed in are plain data (the
receipt number and coarse facts for agendas; the recorded outcomes for minutes), so a template
cannot reach anything it was not given.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

_env = Environment(
    loader=PackageLoader("handlers", "templates"),
    undefined=StrictUndefined,  # a typo in a template fails loudly instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # Markdown text; it is shown in Slack as plain_text, never as mrkdwn
)


def agenda(kind: str, **values: object) -> str:
    return _env.get_template(f"agenda_{kind}.md.j2").render(**values)


def minutes(kind: str, **values: object) -> str:
    name = "minutes_linknet.md.j2" if kind == "linknet" else "minutes_case_meeting.md.j2"
    return _env.get_template(name).render(**values)
