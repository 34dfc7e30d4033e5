"""Who may talk to the studio, and where a pipeline sent to it may read and write.

- Bound to loopback, the studio answers only requests whose ``Host`` is a
  loopback name (a web page on another site cannot reach it through DNS
  rebinding). Bound elsewhere, ``ROUTEYARD_TOKEN`` is required and every
  request must carry it (``Authorization: Bearer``, or the cookie the
  ``?token=`` link sets).
- A request that changes something must carry ``X-Routeyard: 1`` or a bearer
  token: browsers cannot add that header cross-site without a preflight we
  never grant, so a form on another site cannot start runs (CSRF).
- Pipelines arriving over HTTP may read and write only inside the served
  folder and the store; no endpoint fetches a URL on a caller's behalf.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from routeyard import ops
from routeyard.errors import PipelineError, RouteyardError
from routeyard.pipeline.plan import build
from routeyard.pipeline.spec import PipelineSpec

COOKIE = "routeyard_token"
MAX_BODY_BYTES = 32 * 1024 * 1024  # above the largest upload (a 25 MiB mask) plus form overhead
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class AccessError(RouteyardError):
    """A request the studio refuses: unauthenticated, cross-site or from a foreign host."""


class Gatekeeper(BaseHTTPMiddleware):
    def __init__(self, app, *, token: str | None, loopback: bool) -> None:
        super().__init__(app)
        self.token = token
        self.loopback = loopback

    async def dispatch(self, request: Request, call_next) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if self.loopback and not is_loopback(host):
            return _refuse(403, f"host '{host}' is not this studio", "open it as 127.0.0.1")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _refuse(
                413,
                f"request body of {length} bytes is over the {MAX_BODY_BYTES // 2**20} MiB limit",
                "masks are PNGs at the image's size; pipelines are a few KiB",
            )
        bearer = _bearer(request)
        if self.token is not None:
            given = request.query_params.get("token")
            if given is not None and request.method == "GET" and _same(given, self.token):
                # A shareable link: swap the token in the URL for a cookie.
                response = RedirectResponse(request.url.remove_query_params("token"), 303)
                response.set_cookie(COOKIE, given, httponly=True, samesite="strict")
                return response
            presented = bearer or request.cookies.get(COOKIE)
            if presented is None or not _same(presented, self.token):
                return _refuse(
                    401,
                    "this studio needs its token",
                    "send 'Authorization: Bearer $ROUTEYARD_TOKEN' or open the link with ?token=",
                )
        cross_site_capable = request.method not in SAFE_METHODS and bearer is None
        if cross_site_capable and request.headers.get("x-routeyard") != "1":
            return _refuse(
                403,
                f"{request.method} {request.url.path} needs the header 'X-Routeyard: 1'",
                "scripts add it (or a bearer token); browsers on other sites cannot",
            )
        return await call_next(request)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization") or ""
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _refuse(status: int, message: str, hint: str) -> JSONResponse:
    return JSONResponse({"error": message, "hint": hint}, status_code=status)


class PathGuard:
    """Keeps a pipeline's files inside the allowed folders (the served root and the store)."""

    def __init__(self, *roots: Path) -> None:
        self.roots = [r.resolve() for r in roots]

    def inside(self, path: Path) -> bool:
        resolved = path.expanduser().resolve()
        return any(resolved == r or resolved.is_relative_to(r) for r in self.roots)

    def check_spec(self, spec: PipelineSpec) -> None:
        """Refuse a pipeline that reads or writes outside the allowed folders."""
        for node in build(spec).nodes.values():
            op = ops.get_op(node.op)
            params = op.Params.model_validate(node.params)
            named = {
                **{f"reads '{k}'": p for k, p in op.file_paths(params, spec.base_dir).items()},
                **{f"writes '{k}'": p for k, p in op.write_paths(params, spec.base_dir).items()},
            }
            for what, path in named.items():
                if not self.inside(path):
                    raise PipelineError(
                        f"step '{node.step}' {what} at {path}, outside the studio's folders",
                        hint="the studio reads and writes only under: "
                        + ", ".join(str(r) for r in self.roots),
                    )
