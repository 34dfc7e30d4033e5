"""Routing: pick the model and provider for every step, with a fallback chain."""

from routeyard.routing.decision import RouteChoice, RouteDecision, Router
from routeyard.routing.local import LocalRouter

__all__ = ["LocalRouter", "RouteChoice", "RouteDecision", "Router"]
