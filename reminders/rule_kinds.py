"""Every module that defines reminder rules; importing this registers them all."""

from reminders import meetings, memo, outreach, plans, rules  # noqa: F401
