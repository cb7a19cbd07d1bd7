"""A task's message to its agency once the task is no longer open: updated in place (chat.update)
to say it is done — or ended by a new plan — without the buttons that no longer apply."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.common.blocks import context, section
from handlers.common.texts import t
from handlers.meetings.documents import day_text
from handlers.notices.views import Obsolete, Rendered, posted, renders
from handlers.plans.views import _task_values
from models.base.clock import TOKYO
from models.plans.tables import TASK_MESSAGE_REFRESH, PlanTask, TaskState
from models.queues.tables import Notice


@renders(TASK_MESSAGE_REFRESH)
def _task_message_closed(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    message = posted(session, notice.payload["message_notice_id"])
    task = session.get(PlanTask, notice.payload["task_id"])
    if task is None or task.state == TaskState.open:
        raise Obsolete("the task is open: its message stands as it is")
    values = {**_task_values(session, task), "state": t(f"plan.task_state.{task.state}")}
    blocks = [section(t("plan.closed.body", **values))]
    if task.state == TaskState.done and task.done_at is not None:
        day = day_text(task.done_at.astimezone(TOKYO).date())
        blocks.append(context(t("plan.closed.done_on", day=day)))
    return Rendered(
        text=t("plan.closed.text", **values),
        blocks=[b.to_dict() for b in blocks],
        update_ts=message.result_ts,
        channel=message.result_channel,
    )
