"""`tsunagi demo`: a synthetic week played through the real bot, written as one HTML page.

record.py (what was seen) ← stage.py (the bot, the Slack stand-in, the clock) ← story.py (the
week) → run.py (play, check privacy) → render.py (the page, pure).
"""
