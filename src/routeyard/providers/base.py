"""The provider contract and its error kinds.

Every provider failure maps to one of six kinds, which is all the engine
needs to decide what to do: retry with backoff (transient, rate-limited),
or fall back to the next model in the route (policy, invalid input, auth,
permanent).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routeyard.ops import InputAsset, Op, OpContext, OpParams, Output


class ProviderError(Exception):
    kind = "permanent"
    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
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


class AuthError(ProviderError):
    kind = "auth"


class PermanentError(ProviderError):
    kind = "permanent"


@dataclass
class JobLedger:
    """Where a hosted adapter records its job ids, before it waits on them.

    ``previous`` lists jobs already submitted for the same cache key, so a
    resumed run polls the job it paid for instead of submitting again.
    """

    submitted: Callable[..., None]
    updated: Callable[..., None]
    previous: Callable[[], list[dict[str, Any]]]


@dataclass
class Task:
    node: str
    op: Op
    model: str
    model_version: str
    params: OpParams
    seed: int
    inputs: list[InputAsset]
    ctx: OpContext
    jobs: JobLedger
    brief: Any = None  # the plan's brief: default prompt, deliverables (hosted adapters)


@dataclass
class ProviderResult:
    outputs: list[Output]
    cost_usd: float = 0.0
    warnings: list[str] = field(default_factory=list)


class Provider(ABC):
    name: str

    @abstractmethod
    async def run(self, task: Task) -> ProviderResult:
        """Run the task to completion; raise a ``ProviderError`` kind on failure."""
