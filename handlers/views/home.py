"""The Home tab. Counts and pointers only: no case details."""

from __future__ import annotations

from slack_sdk.models.views import View

from handlers.texts import t
from handlers.views.common import context, section


def home_view(*, registered: bool, waiting: int | None) -> View:
    if not registered:
        return View(type="home", blocks=[section(t("home.greeting")), section(t("home.stranger"))])
    blocks = [section(t("home.greeting")), context(t("home.how_to"))]
    if waiting is not None:
        blocks.append(section(t("home.waiting", count=waiting)))
    return View(type="home", blocks=blocks)
