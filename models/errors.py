"""Domain errors carry a message code and parameters; the texts live with the handlers."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused an action. `code` names a message in handlers/locale; `params` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class NotAllowed(DomainError):
    """The acting member's role or agency does not permit the action."""
