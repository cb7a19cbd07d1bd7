"""Domain errors carry a message code and parameters; the texts live with the handlers."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused an action. `code` names a message in handlers/locale; `params` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __reduce__(self):
        # Pickled whole (models/base/offload.py brings errors back from a child process).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[DomainError], args: tuple, state: dict) -> DomainError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class NotAllowed(DomainError):
    """The acting member's role or agency does not permit the action."""


class Busy(DomainError):
    """The database stayed locked past the request path's bound: nothing was stored; the person
    may try again in a moment (a modal keeps its input)."""

    def __init__(self, code: str = "error.busy") -> None:
        super().__init__(code)
