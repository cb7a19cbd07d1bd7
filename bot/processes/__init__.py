"""The server's child processes: the worker (delivery and reminders) and the memo store."""
