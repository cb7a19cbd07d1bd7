"""Every module that renders outbox notices; importing this registers them all."""

from handlers.views import notices  # noqa: F401
