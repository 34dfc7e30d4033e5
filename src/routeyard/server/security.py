"""Who may talk to the studio, and where a pipeline sent to it may read and write.

- Bound to loopback, the studio answers only requests whose ``Host`` is a
  loopback name (a web page on another site cannot reach it through DNS
  rebinding). Bound elsewhere, ``ROUTEYARD_TOKEN`` is required and every
  request must carry it (``Authorization: Bearer``, or the cookie the
  ``?token=`` link sets).
- A request that changes something must carry ``X-Routeyard: 1`` or the
  studio's own bearer token: browsers cannot add that header cross-site without a preflight we
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
        # Only a bearer token that *is* the studio's proves a script, not a page:
        # with no token set, any header would otherwise skip the check.
        scripted = bearer is not None and self.token is not None and _same(bearer, self.token)
        marked = request.headers.get("x-routeyard") == "1"
        if request.method not in SAFE_METHODS and not scripted and not marked:
            return _refuse(
                403,
                f"{request.method} {request.url.path} needs the header 'X-Routeyard: 1'",
                "scripts add it (or the studio's bearer token); browsers on other sites cannot",
            )
        response = await call_next(request)
        _no_framing(response)
        return response


def _no_framing(response: Response) -> None:
    """No other site may frame the studio (its Run and Cancel buttons): clickjacking."""
    response.headers["X-Frame-Options"] = "DENY"
    csp = response.headers.get("content-security-policy")
    response.headers["Content-Security-Policy"] = (
        f"{csp}; frame-ancestors 'none'" if csp else "frame-ancestors 'none'"
    )


class BodyLimit:
    """Bodies over ``MAX_BODY_BYTES`` are refused while they stream in.

    ``Content-Length`` alone is not enough: a chunked body announces none, and
    the server would read it whole. This counts what arrives and answers 413
    the moment the limit is passed, having kept at most the limit in memory.
    """

    def __init__(self, app, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        seen = 0
        over = started = False

        async def counted():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return message

        async def watched(message) -> None:
            # Once over the limit, whatever the app answers (frameworks turn a
            # failed body read into their own 400) becomes the 413.
            nonlocal started
            if over:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refusal()(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refusal()(scope, receive, send)

    def _refusal(self) -> JSONResponse:
        return _refuse(
            413,
            f"request body is over the {self.limit // 2**20} MiB limit",
            "masks are PNGs at the image's size; pipelines are a few KiB",
        )


class _TooLarge(Exception):
    pass


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization") or ""
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _refuse(status: int, message: str, hint: str) -> JSONResponse:
    response = JSONResponse({"error": message, "hint": hint}, status_code=status)
    _no_framing(response)
    return response


class PathGuard:
    """Keeps a pipeline's files inside the allowed folders (the served root and the store)."""

    def __init__(self, *roots: Path) -> None:
        self.roots = [r.resolve() for r in roots]

    def inside(self, path: Path) -> bool:
        resolved = path.expanduser().resolve()
        return any(resolved == r or resolved.is_relative_to(r) for r in self.roots)

    def check_spec(self, spec: PipelineSpec) -> None:
        """Refuse a pipeline that reads or writes outside the allowed folders.

        Every path a pipeline can name passes here: step parameters (sources,
        masks, references, fonts), gate parameters (a gate's ``ref``) and the
        folders it writes (exports). A file to read that is missing gets the
        same answer as one outside, so the studio never says what exists
        elsewhere on the disk."""
        for node in build(spec).nodes.values():
            for what, path, reads in _named_paths(node, spec.base_dir):
                if not self.inside(path) or (reads and not path.is_file()):
                    raise PipelineError(
                        f"step '{node.step}' {what} at {path}: not found, or outside the "
                        "studio's folders",
                        hint="the studio reads and writes only existing files under: "
                        + ", ".join(str(r) for r in self.roots),
                    )


def _named_paths(node, base_dir: Path) -> list[tuple[str, Path, bool]]:
    """(what, path, whether it is read) for every file or folder a node names."""
    op = ops.get_op(node.op)
    params = op.Params.model_validate(node.params)
    out = [(f"reads '{k}'", p, True) for k, p in op.file_paths(params, base_dir).items()]
    out += [(f"writes '{k}'", p, False) for k, p in op.write_paths(params, base_dir).items()]
    gate = node.gate
    ref = gate.params.get("ref") if gate is not None else None
    if isinstance(ref, str) and ref:
        path = Path(ref).expanduser()
        out.append(("gate reads 'ref'", path if path.is_absolute() else base_dir / path, True))
    return out
