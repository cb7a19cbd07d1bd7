"""Outcomes and the support plan in Slack. `register(app)` wires every plan listener:
- outcome_listeners.py: the coordinator records what a さぽネット/まるごと meeting agreed per
  case (the plan and the roles follow);
- task_listeners.py: each task's agency opens its task, records progress or marks it done;
- evaluation_listeners.py: the coordinator evaluates a plan at its review date;
- resources_listeners.py: the list of participation resources (`/tsunagi resources`).

As everywhere: the clicking user is looked up in the database and `decide` is asked; refusals
change nothing and are audited; a task's text is shown only in a modal, and that view is audited.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.common import commands, deferred, ids
from handlers.plans import (
    evaluation_listeners,
    outcome_listeners,
    resources_listeners,
    task_listeners,
)


def register(app: App) -> None:
    app.action(ids.ACTION_MEETING_OUTCOME)(outcome_listeners.open_outcome)
    app.view(ids.VIEW_OUTCOME)(outcome_listeners.submit_outcome)
    app.action(ids.ACTION_TASK_OPEN)(task_listeners.open_task)
    app.action(ids.ACTION_TASK_DONE)(task_listeners.task_done)
    app.action(ids.ACTION_TASK_PROGRESS)(task_listeners.open_progress)
    app.view(ids.VIEW_TASK_PROGRESS)(task_listeners.submit_progress)
    app.action(ids.ACTION_PLAN_EVALUATE)(evaluation_listeners.open_evaluation)
    app.view(ids.VIEW_EVALUATION)(evaluation_listeners.submit_evaluation)
    app.action(ids.ACTION_RESOURCE_ADD)(resources_listeners.open_resource_add)
    app.view(ids.VIEW_RESOURCE_ADD)(resources_listeners.submit_resource_add)
    app.action(ids.ACTION_RESOURCE_TOGGLE)(resources_listeners.toggle_resource)
    app.view(ids.VIEW_MEETING_SHOW)(lambda ack: ack())  # informational modals: nothing to submit
    command = resources_listeners.LATER["resources"]
    commands.add_slow(
        app,
        ("resources", "資源"),
        deferred.later("resources", command),
        placeholder=deferred.in_words(command),
    )
