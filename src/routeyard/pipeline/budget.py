"""The budget guard: a step may start only if its estimate fits what is left.

Estimates are reserved when a step starts and replaced by the actual cost
when it ends, so concurrent steps cannot together overspend.
"""

from __future__ import annotations


class Budget:
    def __init__(self, limit_usd: float | None) -> None:
        self.limit = limit_usd
        self.spent = 0.0
        self.reserved = 0.0

    @property
    def left(self) -> float | None:
        return None if self.limit is None else self.limit - self.spent - self.reserved

    def fits(self, estimate: float) -> bool:
        left = self.left
        return left is None or estimate <= left + 1e-9

    def reserve(self, estimate: float) -> None:
        self.reserved += estimate

    def settle(self, estimate: float, actual: float) -> None:
        self.reserved -= estimate
        self.spent += actual
