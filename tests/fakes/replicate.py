"""A fake Replicate: predictions, files and result URLs (PROVIDERS.md §2).

``POST /v1/models/{owner}/{name}/predictions`` → 201 prediction (``Prefer:
wait=N`` holds the answer until the prediction ends or N seconds pass);
``GET /v1/predictions/{id}``; ``POST /v1/predictions/{id}/cancel``;
``POST /v1/files`` (multipart ``content``); ``GET /v1/account``.
Auth: ``Authorization: Bearer <REPLICATE_API_TOKEN>``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from tests.fakes.server import FakeServer, Req, Resp, shape_of

_STATUS = {"queued": "starting", "running": "processing", "cancelled": "canceled"}


class FakeReplicate(FakeServer):
    name = "replicate"

    def __init__(self, token: str = "r8_test_token_000000", **kw) -> None:
        super().__init__(**kw)
        self.token = token
        self.route(
            "POST", r"/v1/models/(?P<owner>[\w-]+)/(?P<model>[\w.-]+)/predictions", self._create
        )
        self.route("GET", r"/v1/predictions", self._list)
        self.route("GET", r"/v1/predictions/(?P<id>\w+)", self._get)
        self.route("POST", r"/v1/predictions/(?P<id>\w+)/cancel", self._cancel)
        self.route("POST", r"/v1/files", self._file_upload)
        self.route("GET", r"/v1/account", self._account)
        self.route("GET", r"/v1/models/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)", self._model)
        self.unlisted: set[str] = set()  # slugs the models API answers 404 for

    def error_body(self, status: int, message: str):
        return {"title": "error", "detail": message, "status": status}

    def policy_response(self) -> Resp:
        return Resp(422, self.error_body(422, "The input was flagged as sensitive (NSFW)."))

    def check_auth(self, req: Req) -> Resp | None:
        return self.auth_failed(req, "authorization", f"Bearer {self.token}")

    def _model(self, req: Req) -> Resp:
        if refused := self.gate(req, "listing"):
            return refused
        slug = f"{req.match['owner']}/{req.match['name']}"
        if slug in self.unlisted:
            return Resp(404, {"detail": "Not found.", "status": 404})
        return Resp(200, {"owner": req.match["owner"], "name": req.match["name"],
                          "latest_version": {"id": "v" * 8}})  # fmt: skip

    def _account(self, req: Req) -> Resp:
        return self.gate(req) or Resp(
            200, {"type": "user", "username": "routeyard-test", "name": "Test"}
        )

    def _file_upload(self, req: Req) -> Resp:
        if refused := self.gate(req):
            return refused
        ctype = req.headers.get("content-type", "")
        boundary = ctype.split("boundary=")[-1].encode()
        part = next(p for p in req.body.split(b"--" + boundary) if b'name="content"' in p)
        head, _, data = part.partition(b"\r\n\r\n")
        mime = re.search(rb"Content-Type: ([\w/+.-]+)", head, re.I)
        data = data[:-2] if data.endswith(b"\r\n") else data
        url = self.serve_file(data, (mime.group(1).decode() if mime else "image/png"))
        fid = url.rsplit("/", 1)[1]
        return Resp(
            201, {"id": fid, "content_type": "image/png", "size": len(data), "urls": {"get": url}}
        )

    def _prediction(self, job, *, listed: bool = False) -> dict:
        """A prediction object; ``listed`` ones carry no output (the list is cheap)."""
        phase = job.phase()
        status = _STATUS.get(phase, "succeeded")
        body = {
            "id": job.id,
            "model": job.endpoint,
            "version": "hidden",
            "input": job.payload.get("input", {}),
            "logs": "",
            "output": None,
            "error": None,
            "status": status,
            "created_at": datetime.fromtimestamp(job.created_unix, UTC).isoformat(),
            "urls": {
                "get": f"{self.url}/v1/predictions/{job.id}",
                "cancel": f"{self.url}/v1/predictions/{job.id}/cancel",
                "web": f"https://replicate.com/p/{job.id}",
            },
        }
        if phase == "running":
            body["logs"] = " 50%|█████     | 14/28 [00:01<00:01]"
        if phase == "done":
            if job.outcome == "fail":
                body.update(status="failed", error="CUDA out of memory")
            elif job.outcome == "policy":
                body.update(
                    status="failed",
                    error="NSFW content detected. Try running it again, or try a different prompt.",
                )
            elif not listed:
                if job.result is None:
                    job.result = self._output(job)
                body.update(output=job.result, metrics={"predict_time": 0.4})
        return body

    def _output(self, job):
        i = job.payload.get("input", {})
        name = job.endpoint.split("/")[1]
        image = (
            i.get("input_image")
            or i.get("start_image")
            or i.get("image")
            or (i.get("image_input") or [None])[0]
        )
        if name.startswith(("kling", "veo", "seedance")):
            kind = "video"
        elif "fill" in name:
            kind = "inpaint"
        elif image:
            kind = "edit"
        else:
            kind = "generate"
        data, mime = self.render(
            kind,
            prompt=i.get("prompt") or "",
            image=image,
            mask=i.get("mask"),
            width=shape_of(i, (512, 512))[0],
            height=shape_of(i, (512, 512))[1],
            seed=i.get("seed") or 0,
            seconds=float(i.get("duration", 5)),
        )
        url = self.serve_file(data, mime)
        return [url] if name in ("flux-schnell", "flux-dev", "seedream-4") else url

    def _create(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        job = self.new_job(f"{req.match['owner']}/{req.match['model']}", req.json())
        wait = req.headers.get("prefer", "")
        if wait.startswith("wait"):
            seconds = float(wait.split("=")[1]) if "=" in wait else 60
            end = time.monotonic() + seconds
            while time.monotonic() < end and job.phase() != "done":
                time.sleep(0.02)
        return Resp(201, self._prediction(job))

    def _list(self, req: Req) -> Resp:
        """``GET /v1/predictions``: the newest first, one page (PROVIDERS.md §2.1)."""
        if refused := self.gate(req, "list"):
            return refused
        newest = sorted(self.jobs.values(), key=lambda j: j.created_unix, reverse=True)
        return Resp(
            200,
            {
                "results": [self._prediction(j, listed=True) for j in newest[:100]],
                "next": None,
                "previous": None,
            },
        )

    def _get(self, req: Req) -> Resp:
        if refused := self.gate(req, "status"):
            return refused
        job = self.jobs.get(req.match["id"])
        if job is None:
            return Resp(404, self.error_body(404, "Not found."))
        return Resp(200, self._prediction(job))

    def _cancel(self, req: Req) -> Resp:
        job = self.jobs.get(req.match["id"])
        if job is None:
            return Resp(404, self.error_body(404, "Not found."))
        job.cancelled = True
        return Resp(200, self._prediction(job))
