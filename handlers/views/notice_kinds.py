"""Every module that renders outbox notices; importing this registers them all."""

from handlers.views import case_desk, linknet, notices, reminders  # noqa: F401
