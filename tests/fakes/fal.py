"""A fake fal.ai: the queue API, CDN uploads and result files (PROVIDERS.md §1).

Submit ``POST /{endpoint id}`` → ``{request_id, response_url, status_url,
cancel_url}``; status ``GET /{owner}/{app}/requests/{id}/status`` (202
IN_QUEUE with ``queue_position``, IN_PROGRESS with ``logs``, 200 COMPLETED);
result ``GET /{owner}/{app}/requests/{id}``; cancel ``PUT …/cancel``.
Uploads: ``POST /storage/auth/token`` then ``POST /files/upload``.
Auth: ``Authorization: Key <FAL_KEY>``.
"""

from __future__ import annotations

import time

from tests.fakes.server import FakeServer, Req, Resp, shape_of

_APP = r"/(?P<owner>[\w-]+)/(?P<app>[\w.-]+)/requests/(?P<id>[\w-]+)"


def kind_of(endpoint: str, payload: dict | None = None) -> str:
    if any(k in endpoint for k in ("kling-video", "veo3", "seedance", "to-video", "kling/v4")):
        return "video"
    if (payload or {}).get("mask_url") and endpoint.endswith("/edit"):
        return "inpaint"
    if "fill" in endpoint:
        return "inpaint"
    if "upscal" in endpoint:
        return "upscale"
    if "birefnet" in endpoint or endpoint.endswith("/edit") or "kontext" in endpoint:
        return "edit" if "text-to-image" not in endpoint else "generate"
    return "generate"


class FakeFal(FakeServer):
    name = "fal"

    def __init__(self, key: str = "fal-test-key-0000", **kw) -> None:
        super().__init__(**kw)
        self.key = key
        # the listing APIs `models sync` reads: prices per endpoint, and every endpoint
        self.prices: dict[str, dict] = {}  # endpoint → {unit_price, unit, currency}
        self.listed: list[str] = []
        self.page_size = 2
        self.route("GET", r"/v1/models/pricing", self._pricing)
        self.route("GET", r"/v1/models", self._models)
        self.route("POST", r"/storage/auth/token", self._token)
        self.route("POST", r"/files/upload", self._upload)
        self.route("GET", _APP + r"/status", self._status)
        self.route("GET", _APP, self._result)
        self.route("PUT", _APP + r"/cancel", self._cancel)
        self.route("POST", r"/(?P<endpoint>[\w-]+/.+)", self._submit)

    def policy_response(self) -> Resp:
        return Resp(
            422,
            {
                "detail": [
                    {
                        "loc": ["body", "prompt"],
                        "msg": "The prompt was flagged by the content checker",
                        "type": "content_policy_violation",
                    }
                ]
            },
        )

    def check_auth(self, req: Req) -> Resp | None:
        return self.auth_failed(req, "authorization", f"Key {self.key}")

    def _pricing(self, req: Req) -> Resp:
        if refused := self.gate(req, "listing"):
            return refused
        asked = ",".join(req.query.get("endpoint_id") or []).split(",")
        rows = [{"endpoint_id": e, **self.prices[e]} for e in asked if e in self.prices]
        return Resp(200, {"prices": rows})

    def _models(self, req: Req) -> Resp:
        if refused := self.gate(req, "listing"):
            return refused
        start = int((req.query.get("cursor") or ["0"])[0])
        page = self.listed[start : start + self.page_size]
        more = start + self.page_size < len(self.listed)
        body = {"models": [{"endpoint_id": e} for e in page], "has_more": more}
        if more:
            body["next_cursor"] = str(start + self.page_size)
        return Resp(200, body)

    def _token(self, req: Req) -> Resp:
        if refused := self.gate(req):
            return refused
        return Resp(
            200,
            {
                "token": "cdn-upload-token",
                "token_type": "Bearer",
                "base_url": self.url,
                "expires_at": time.time() + 3600,
            },
        )

    def _upload(self, req: Req) -> Resp:
        if req.headers.get("authorization") != "Bearer cdn-upload-token":
            return Resp(401, {"detail": "bad upload token"})
        name = f"{self.new_id('u')}.{req.headers.get('content-type', 'x/bin').split('/')[1]}"
        self.files[name] = (req.body, req.headers.get("content-type", "application/octet-stream"))
        return Resp(200, {"access_url": f"{self.url}/files/{name}"})

    def _submit(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        endpoint = req.match["endpoint"]
        job = self.new_job(endpoint, req.json())
        owner, app = endpoint.split("/")[:2]
        base = f"{self.url}/{owner}/{app}/requests/{job.id}"
        return Resp(
            200,
            {
                "status": "IN_QUEUE",
                "request_id": job.id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": 0,
            },
        )

    def _status(self, req: Req) -> Resp:
        if refused := self.gate(req, "status"):
            return refused
        job = self.jobs.get(req.match["id"])
        if job is None:
            return Resp(404, {"detail": "Request not found"})
        phase = job.phase()
        common = {"request_id": job.id}
        if phase == "queued":
            return Resp(202, {**common, "status": "IN_QUEUE", "queue_position": 0})
        if phase == "running":
            return Resp(202, {**common, "status": "IN_PROGRESS", "logs": None})
        body = {**common, "status": "COMPLETED", "logs": None, "metrics": {"inference_time": 0.4}}
        if job.outcome == "fail":
            body.update(error="Runner disconnected", error_type="runner_disconnected")
        return Resp(200, body)

    def _result(self, req: Req) -> Resp:
        if refused := self.gate(req, "result"):
            return refused
        job = self.jobs.get(req.match["id"])
        if job is None:
            return Resp(404, {"detail": "Request not found"})
        if job.phase() != "done":
            return Resp(400, {"detail": "Request is still in progress"})
        if job.outcome == "policy":
            return self.policy_response()
        if job.result is None:
            job.result = self._output(job)
        return Resp(200, job.result)

    def _output(self, job) -> dict:
        p = job.payload
        kind = kind_of(job.endpoint, p)
        width, height = shape_of(p, (512, 512))
        image = p.get("image_url") or p.get("start_image_url") or (p.get("image_urls") or [None])[0]
        seconds = float(str(p.get("duration", "5")).rstrip("s"))
        data, mime = self.render(
            kind,
            prompt=p.get("prompt") or "",
            image=image,
            mask=p.get("mask_url"),
            width=width,
            height=height,
            seed=p.get("seed") or 0,
            seconds=seconds,
            factor=int(p.get("upscale_factor") or 2),
        )
        url = self.serve_file(data, mime)
        entry = {"url": url, "content_type": mime, "file_size": len(data)}
        if kind == "video":
            return {"video": entry, "seed": p.get("seed")}
        if "birefnet" in job.endpoint or "upscal" in job.endpoint:
            return {"image": entry}
        return {
            "images": [entry],
            "seed": p.get("seed"),
            "has_nsfw_concepts": [False],
            "prompt": p.get("prompt"),
            "timings": {"inference": 0.4},
        }

    def _cancel(self, req: Req) -> Resp:
        job = self.jobs.get(req.match["id"])
        if job is None:
            return Resp(404, {"status": "NOT_FOUND"})
        if job.phase() == "done":
            return Resp(400, {"status": "ALREADY_COMPLETED"})
        job.cancelled = True
        return Resp(202, {"status": "CANCELLATION_REQUESTED"})
