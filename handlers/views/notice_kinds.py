"""Every module that renders outbox notices; importing this registers them all."""

from handlers.views import (  # noqa: F401
    case_desk,
    linknet,
    meetings,
    notices,
    outreach,
    plans,
    reminders,
    task_messages,
)
