"""Errors a user can act on.

Every error that reaches the CLI is a ``RouteyardError``: one line that names
the file, step or parameter at fault, plus a hint saying what to change. The
CLI prints it without a traceback and exits non-zero; anything else reaching
the CLI is a bug in routeyard and is shown as one.
"""

from __future__ import annotations


class RouteyardError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class PipelineError(RouteyardError):
    """The pipeline file is invalid: bad YAML, unknown op, cycle, missing file."""

    exit_code = 2


class StoreError(RouteyardError):
    """The store cannot be opened, written or trusted."""

    exit_code = 3


class StoreBusyError(StoreError):
    """Another process is running a plan against the same store."""


class NotFoundError(RouteyardError):
    """A run, step or asset named on the command line does not exist."""

    exit_code = 4


class MediaError(RouteyardError):
    """A media file is corrupt, truncated, unsupported or unsafe to decode."""


class BudgetExceededError(RouteyardError):
    """A step's estimated cost exceeds what is left of the brief's budget."""
