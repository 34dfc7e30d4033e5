"""The shared part of the fake provider servers: a threaded HTTP server on
127.0.0.1 with routes, a job clock, served result files, counters and
scripted faults.

A fake is a subclass that adds its provider's routes. Tests script faults
by name on a hook (``fake.script("submit", "429", "500")`` fails the next two
submits), count submissions (``fake.submissions``) and read every request
the server saw (``fake.requests``) to prove what an adapter sent.

Faults a hook understands:
  ``500`` / ``503`` – a server error, ``429`` – rate limited with Retry-After,
  ``timeout`` – hold the answer past the client's patience, ``garbled`` –
  a 200 whose body is not JSON, ``drop`` – close the connection unanswered.

Faults after acceptance (the request is served: a job is created and paid
for) whose answer never reaches the client, named ``lost:<how>``:
  ``lost:drop`` – the connection closes instead of the answer, ``lost:html200``
  – a 200 HTML page (a captive proxy), ``lost:502`` – a proxy's 502 page,
  ``lost:timeout`` – the answer is held until the client gives up.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def asked_shape(payload: Any) -> tuple[str, Any] | None:
    """The output shape a request body asks for, whatever the provider calls it:
    ``("size", (w, h))`` from width/height, a ``{width, height}`` or a ``"WxH"``;
    ``("aspect", w / h)`` from an ``aspect_ratio`` / ``aspectRatio`` of ``"W:H"``;
    None when it asks for neither."""
    found: list[tuple[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        if not isinstance(value, dict):
            return
        if isinstance(value.get("width"), int) and isinstance(value.get("height"), int):
            found.append(("size", (value["width"], value["height"])))
        size = value.get("size")
        if isinstance(size, str) and (m := re.fullmatch(r"(\d+)x(\d+)", size)):
            found.append(("size", (int(m[1]), int(m[2]))))
        for key in ("aspect_ratio", "aspectRatio"):
            ratio = value.get(key)
            if isinstance(ratio, str) and (m := re.fullmatch(r"(\d+):(\d+)", ratio)):
                found.append(("aspect", int(m[1]) / int(m[2])))
        for item in value.values():
            walk(item)

    walk(payload)
    return next((f for f in found if f[0] == "size"), None) or (found[0] if found else None)


def asked_seconds(payload: Any) -> float | None:
    """The clip length a request body asks for (``duration`` "5", "6s", 10, or
    ``durationSeconds``, a ``--duration`` prompt flag), None when it names none.
    """
    if isinstance(payload, list):
        return next((v for v in map(asked_seconds, payload) if v is not None), None)
    if isinstance(payload, str):  # ModelArk's prompt flags: "… --duration 5 --ratio 16:9"
        m = re.search(r"--(?:duration|dur) (\d+(?:\.\d+)?)", payload)
        return float(m[1]) if m else None
    if not isinstance(payload, dict):
        return None
    for key in ("duration", "durationSeconds"):
        m = re.fullmatch(r"(\d+(?:\.\d+)?)s?", str(payload.get(key, "")))
        if m:
            return float(m[1])
    return next((v for v in map(asked_seconds, payload.values()) if v is not None), None)


def shape_of(payload: Any, default: tuple[int, int]) -> tuple[int, int]:
    """The (width, height) a provider would render for this request body."""
    asked = asked_shape(payload)
    if asked is None:
        return default
    if asked[0] == "size":
        return asked[1]
    side = max(default)
    if asked[1] >= 1:
        return side, round(side / asked[1])
    return round(side * asked[1]), side


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match | None = None
    lost: str | None = None  # a "lost:*" fault: the request is served, its answer lost

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Resp:
    status: int = 200
    body: Any = None  # dict/list → JSON; bytes → raw
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeJob:
    """A job on the fake's clock: queued for ``queued_s``, running for ``running_s``."""

    id: str
    endpoint: str
    payload: Any
    created: float = field(default_factory=time.monotonic)
    created_unix: float = field(default_factory=time.time)  # what list endpoints report
    queued_s: float = 0.2
    running_s: float = 0.4
    outcome: str = "ok"  # ok | fail | policy
    result: Any = None  # filled once, when first finished
    cancelled: bool = False

    def phase(self) -> str:
        if self.cancelled:
            return "cancelled"
        age = time.monotonic() - self.created
        if age < self.queued_s:
            return "queued"
        if age < self.queued_s + self.running_s:
            return "running"
        return "done"


class FakeServer:
    """Base of the fake providers; subclasses call ``route`` in ``__init__``."""

    name = "fake"

    def __init__(self, *, queued_s: float = 0.2, running_s: float = 0.4) -> None:
        self.routes: list[tuple[str, re.Pattern, Callable[[Req], Resp]]] = []
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.outcomes: list[str] = []  # per submitted job, in order: ok | fail | policy
        self.submissions: Counter = Counter()  # endpoint → jobs created
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[Any] = []  # JSON bodies of submits, in order
        self.jobs: dict[str, FakeJob] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.not_ready: dict[str, int] = {}  # file name → 404s left before it is served
        self.downloads: Counter = Counter()
        self.not_ready_first = 0  # every result file answers 404 this many times first
        # Hostile result hosting: ``redirect`` – every file redirects to itself;
        # ``inflate`` – files carry this many bytes more than announced;
        # ``trickle`` – files stream a byte at a time, slowly, for ever.
        self.result_hosting: str | None = None
        self.inflate = 20 << 20
        self.queued_s, self.running_s = queued_s, running_s
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._released = threading.Event()  # held answers (lost:timeout) end at stop
        self.route("GET", r"/files/(?P<name>[^/?]+)", self._file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------ control
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, hook: str, *faults: str) -> None:
        """Fail the next calls of ``hook`` with ``faults``, one each, in order."""
        self.faults[hook].extend(faults)

    def route(self, method: str, pattern: str, handler: Callable[[Req], Resp]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def new_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids):06d}"

    def new_job(self, endpoint: str, payload: Any, prefix: str = "") -> FakeJob:
        with self.lock:
            job = FakeJob(
                id=self.new_id(prefix),
                endpoint=endpoint,
                payload=payload,
                queued_s=self.queued_s,
                running_s=self.running_s,
                outcome=self.outcomes.pop(0) if self.outcomes else "ok",
            )
            self.jobs[job.id] = job
            self.submissions[endpoint] += 1
            self.bodies.append(payload)
        return job

    def serve_file(self, data: bytes, mime: str, *, not_ready: int = 0) -> str:
        name = f"{self.new_id('f')}.{mime.split('/')[1]}"
        self.files[name] = (data, mime)
        if not_ready or self.not_ready_first:
            self.not_ready[name] = not_ready or self.not_ready_first
        return f"{self.url}/files/{name}"

    @property
    def total_submissions(self) -> int:
        return sum(self.submissions.values())

    # ------------------------------------------------------------ faults
    def fault(self, hook: str) -> Resp | None:
        """The scripted fault for this call of ``hook``, as a response (or None)."""
        with self.lock:
            queue = self.faults.get(hook)
            fault = queue.pop(0) if queue else None
        if fault is None:
            return None
        if fault in ("500", "502", "503"):
            return Resp(int(fault), self.error_body(int(fault), "upstream busy"))
        if fault == "429":
            return Resp(429, self.error_body(429, "rate limited"), {"retry-after": "0.2"})
        if fault == "timeout":
            time.sleep(3.0)
            return None
        if fault == "garbled":
            return Resp(200, b"<html>502 Bad Gateway</html>", {"content-type": "text/html"})
        if fault == "drop":
            return Resp(-1)
        if fault == "policy":
            return self.policy_response()
        if fault == "invalid":
            return Resp(422, self.error_body(422, "image_url: could not read the image"))
        if fault == "auth":
            return Resp(401, self.error_body(401, "invalid credentials"))
        raise ValueError(f"unknown fault {fault}")

    def _lose(self, how: str, served: Resp) -> Resp:
        """The answer the client gets instead of ``served`` (already acted on)."""
        if how == "drop":
            return Resp(-1)
        if how == "html200":
            return Resp(200, b"<html>504 Gateway Time-out</html>", {"content-type": "text/html"})
        if how == "502":
            return Resp(502, b"<html>502 Bad Gateway</html>", {"content-type": "text/html"})
        if how == "timeout":  # held until the client has given up, then dropped
            self._released.wait(30)
            return Resp(-1)
        raise ValueError(f"unknown lost-answer fault {how}")

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def policy_response(self) -> Resp:
        return Resp(422, self.error_body(422, "content policy violation"))

    # ------------------------------------------------------------- media
    def input_bytes(self, ref: str) -> bytes:
        """An input the adapter sent: a data: URI, a file on this fake, or raw base64."""
        if ref.startswith("data:"):
            return base64.b64decode(ref.split(",", 1)[1])
        if ref.startswith(self.url + "/files/"):
            return self.files[ref.rsplit("/", 1)[1]][0]
        # Google's APIs accept the URL-safe alphabet too (google-genai sends it).
        ref = ref.replace("-", "+").replace("_", "/")
        return base64.b64decode(ref + "=" * (-len(ref) % 4))

    def render(
        self,
        kind: str,
        *,
        prompt: str = "",
        image: str | None = None,
        mask: str | None = None,
        width: int = 512,
        height: int = 512,
        seed: int = 0,
        seconds: float = 5.0,
        factor: int = 2,
    ) -> tuple[bytes, str]:
        """Real media for a finished job, made with routeyard's local engines."""
        from tests.fakes import media

        if kind == "generate":
            return media.generate(prompt, width, height, seed), "image/png"
        source = self.input_bytes(image) if image else media.generate(prompt, 512, 512, seed)
        if kind == "edit":
            return media.edit(source, prompt), "image/png"
        if kind == "inpaint":
            return media.inpaint(source, self.input_bytes(mask)), "image/png"
        if kind == "upscale":
            return media.upscale(source, factor), "image/png"
        if kind == "video":
            return media.animate(source, seconds), "video/mp4"
        raise ValueError(kind)

    def check_auth(self, req: Req) -> Resp | None:
        """The fake's credential check: a refusal, or None when the request may pass."""
        return None

    def gate(self, req: Req, hook: str | None = None) -> Resp | None:
        """What every route does first: refuse bad credentials, then play a scripted fault."""
        refused = self.check_auth(req)
        if refused is not None or hook is None:
            return refused
        with self.lock:
            queue = self.faults.get(hook)
            if queue and queue[0].startswith("lost:"):
                req.lost = queue.pop(0).removeprefix("lost:")
                return None
        return self.fault(hook)

    def auth_failed(self, req: Req, header: str, expected: str) -> Resp | None:
        if req.headers.get(header) != expected:
            return Resp(401, self.error_body(401, "invalid or missing credentials"))
        return None

    def _file(self, req: Req) -> Resp:
        name = req.match["name"]
        with self.lock:
            left = self.not_ready.get(name, 0)
            if left:
                self.not_ready[name] = left - 1
                return Resp(404, b"not found yet")
            self.downloads[name] += 1
        if name not in self.files:
            return Resp(404, b"no such file")
        data, mime = self.files[name]
        if self.result_hosting == "redirect":
            return Resp(302, b"", {"location": f"/files/{name}"})
        if self.result_hosting == "inflate":
            return Resp(200, data + b"\0" * self.inflate, {"content-type": mime})
        if self.result_hosting == "trickle":
            return Resp(-2, data, {"content-type": mime})
        return Resp(200, data, {"content-type": mime})

    # ------------------------------------------------------------- HTTP
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Req(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with fake.lock:
                    fake.requests.append((self.command, parts.path))
                resp = Resp(404, fake.error_body(404, f"no route {self.command} {parts.path}"))
                for method, pattern, handler in fake.routes:
                    m = pattern.match(parts.path)
                    if m and method == self.command:
                        req.match = m
                        try:
                            resp = handler(req)
                        except Exception as exc:  # a bug in a fake: say so loudly
                            resp = Resp(599, {"detail": f"fake crashed: {exc!r}"})
                        break
                if req.lost is not None:
                    resp = fake._lose(req.lost, resp)
                if resp.status == -1:
                    self.close_connection = True
                    return
                if resp.status == -2:  # trickle: headers, then a byte now and then
                    self.send_response(200)
                    self.send_header("content-type", resp.headers["content-type"])
                    self.end_headers()
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        while not fake._released.wait(0.05):
                            self.wfile.write(b"\0")
                            self.wfile.flush()
                    return
                if isinstance(resp.body, bytes):
                    data, ctype = resp.body, resp.headers.get("content-type", "text/plain")
                else:
                    data, ctype = json.dumps(resp.body).encode(), "application/json"
                self.send_response(resp.status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                for k, v in resp.headers.items():
                    if k.lower() != "content-type":
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        return Handler
