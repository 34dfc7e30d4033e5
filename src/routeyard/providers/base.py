"""The provider contract and its error kinds.

Every provider failure maps to one of seven kinds (``routeyard.errors``),
which is all the engine needs to decide what to do: retry with backoff
(transient, rate-limited), fall back to the next model in the route (policy,
permanent), or end the step (invalid input, auth, and a paid submit whose
answer was lost: retrying it could pay twice).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routeyard.errors import (
    AnswerLostError,
    AuthError,
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    ProviderError,
    RateLimitedError,
    ResultLostError,
    TransientError,
)
from routeyard.ops import InputAsset, Op, OpContext, OpParams, Output

__all__ = [
    "AnswerLostError",
    "AuthError",
    "InvalidInputError",
    "JobLedger",
    "PermanentError",
    "PolicyRejectedError",
    "Provider",
    "ProviderError",
    "ProviderResult",
    "RateLimitedError",
    "ResultLostError",
    "Task",
    "TransientError",
]


# ``ProviderResult.seed`` when the step's own seed was sent and used.
SENT = object()
NO_SEED = "takes no seed: the result is not reproducible"


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
    # The operator asked to submit again although an earlier job of this step
    # may have been accepted (``run --resubmit STEP``).
    resubmit: bool = False


@dataclass
class ProviderResult:
    outputs: list[Output]
    cost_usd: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # The seed that shaped the result: the step's (the default, ``SENT``), the
    # one the provider reports it used, or None when the request carried none.
    seed: int | object | None = SENT


class Provider(ABC):
    name: str

    @abstractmethod
    async def run(self, task: Task) -> ProviderResult:
        """Run the task to completion; raise a ``ProviderError`` kind on failure."""
