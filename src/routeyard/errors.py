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


class ConfigError(RouteyardError):
    """The providers config file (or another setting) is malformed or misspelt."""


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
    """A step's estimated cost exceeds what is left of the brief's budget.

    A run goes on with the steps that fit; when the only failures are steps
    the budget refused, the run's error starts with ``OVER_BUDGET`` and the
    CLI exits with this code."""

    exit_code = 6


OVER_BUDGET = "over budget"


class CancelledByUser(RouteyardError):
    """The operator stopped a run (Ctrl-C, SIGTERM, the studio's Cancel)."""

    exit_code = 130


class OpInputError(RouteyardError):
    """An op cannot work with these inputs or parameters: not worth a retry or fallback."""

    exit_code = 2


class ProviderError(RouteyardError):
    """A provider failed a task. The kind decides what the engine does next.

    ``retryable`` kinds are retried with backoff on the same model;
    ``falls_back`` kinds move on to the next model of the route's chain;
    the others (bad input, a missing key) would fail on every model, so they
    end the step.
    """

    exit_code = 5
    kind = "permanent"
    retryable = False
    falls_back = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class TransientError(ProviderError):
    kind = "transient"
    retryable = True


class RateLimitedError(ProviderError):
    kind = "rate_limited"
    retryable = True


class PolicyRejectedError(ProviderError):
    kind = "rejected_by_policy"


class InvalidInputError(ProviderError):
    kind = "invalid_input"
    falls_back = False


class AuthError(ProviderError):
    kind = "auth"
    falls_back = False


class PermanentError(ProviderError):
    kind = "permanent"


class AnswerLostError(ProviderError):
    """A paid request reached the provider (or may have) and its answer was lost:
    a dropped connection after sending, a timeout, a proxy's HTML page.

    Never retried and never a reason to fall back: both would submit (and pay
    for) a second job while the first may be running. The adapter reconciles
    where the provider lets it; otherwise the step ends with this, and the
    ledger keeps the job as possibly billed until the operator resubmits."""

    kind = "answer_lost"
    falls_back = False


class ResultLostError(ProviderError):
    """A job finished, and is billed, but its result cannot be downloaded (an
    expired URL, a redirect loop, a file larger than announced). Falling back
    would pay another provider; the operator decides (``--resubmit``)."""

    kind = "result_lost"
    falls_back = False
