"""The HTTP API and web studio over the same engine and store (``routeyard serve``)."""

from routeyard.server.app import create_app, serve

__all__ = ["create_app", "serve"]
