"""The monthly Link-net post at send time: the figures as the ledger recorded them, then the chart
(drawn in a worker process: matplotlib stays out of the bot), once the post has gone out."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.common.texts import t
from handlers.linknet.chart import render_trend
from handlers.linknet.views import alt_text, month_label, post_message, trend_chart
from handlers.notices.readers import Renderer
from handlers.notices.views import NotReady, Obsolete, Rendered, Upload
from models.base import offload
from models.linknet.figures import Published, published
from models.linknet.posting import CHART_KIND, POST_KIND, post_notice
from models.queues.tables import Notice, NoticeState


def chart_upload(pub: Published) -> Upload:
    last = pub.period.last
    return Upload(
        content=offload.run(render_trend, trend_chart(pub)),  # matplotlib stays out of the bot
        filename=t("linknet.chart.filename", period=str(last)),
        title=t("linknet.chart.file_title", period=month_label(last)),
        alt_text=alt_text(pub),
    )


def _render_post(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    text, blocks = post_message(published(session, notice.payload["publication_id"]))
    return Rendered(text=text, blocks=blocks)


def _render_chart(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    publication_id = notice.payload["publication_id"]
    post = post_notice(session, publication_id)
    if post is None or post.state in (NoticeState.failed, NoticeState.cancelled):
        raise Obsolete("the post was not sent, so its chart is not either")
    if post.state != NoticeState.sent:
        raise NotReady("the chart follows its post")
    pub = published(session, publication_id)
    return Rendered(text="", blocks=[], file=chart_upload(pub))


NOTICES: dict[str, Renderer] = {POST_KIND: _render_post, CHART_KIND: _render_chart}
