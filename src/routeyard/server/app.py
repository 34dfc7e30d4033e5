"""The ASGI application and ``routeyard serve``.

One FastAPI app: the JSON API under ``/api`` (OpenAPI at ``/openapi.json``,
browsable at ``/docs``), the pages, and the static script and styles that
ship inside the package (no front-end build step).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from routeyard import __version__, config
from routeyard.errors import (
    MediaError,
    NotFoundError,
    PipelineError,
    RouteyardError,
    StoreBusyError,
)
from routeyard.server import pages, routes_api
from routeyard.server.runs import BusyError
from routeyard.server.security import BodyLimit, Gatekeeper, is_loopback
from routeyard.server.state import Studio

HERE = Path(__file__).parent
_STATUS = [
    (NotFoundError, 404),
    ((BusyError, StoreBusyError), 409),
    ((PipelineError, MediaError), 400),
]


def create_app(
    *,
    home: str | Path | None = None,
    root: str | Path | None = None,
    token: str | None = None,
    host: str = "127.0.0.1",
) -> FastAPI:
    token = token if token is not None else config.studio_token()
    loopback = is_loopback(host)
    if not loopback and not token:
        raise RouteyardError(
            f"serving on {host} (not loopback) needs a token",
            hint="set ROUTEYARD_TOKEN, or serve on 127.0.0.1",
        )
    studio = Studio(
        home=config.store_home(home), root=Path(root or Path.cwd()), token=token, loopback=loopback
    )
    app = FastAPI(
        title="routeyard studio",
        version=__version__,
        description="Runs, lineage, variants, masks and reviews over one routeyard store.",
    )
    app.state.studio = studio
    app.add_middleware(Gatekeeper, token=token, loopback=loopback)
    app.add_middleware(BodyLimit)  # outermost: counts every body, chunked ones included
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(routes_api.router)
    app.include_router(pages.router)

    @app.exception_handler(RouteyardError)
    async def _routeyard_error(request: Request, exc: RouteyardError):
        status = next((code for kinds, code in _STATUS if isinstance(exc, kinds)), 400)
        if not request.url.path.startswith("/api/") and request.method == "GET":
            return pages.error_page(request, exc, status)
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return JSONResponse(
            {"error": f"{where}: {err['msg']}", "hint": "see /docs for this endpoint's fields"},
            status_code=422,
        )

    return app


def check_port(host: str, port: int) -> None:
    """Fail with one line, before the server starts, if the address cannot be bound."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise RouteyardError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                hint="pick another --port, or stop the program using it",
            ) from None


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    home: str | Path | None = None,
    root: str | Path | None = None,
    log_level: str = "warning",
) -> None:
    """Run the studio until Ctrl-C."""
    import uvicorn

    app = create_app(home=home, root=root, host=host)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
