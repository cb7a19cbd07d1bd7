"""Every module that defines reminder rules; importing this registers them all."""

from reminders import memo, rules  # noqa: F401
