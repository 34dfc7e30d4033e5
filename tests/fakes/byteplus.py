"""A fake BytePlus ModelArk: Seedream images and Seedance tasks (PROVIDERS.md §6).

``POST /images/generations`` answers at once with ``data[].url``;
``POST /contents/generations/tasks`` → ``{id}``; ``GET …/tasks/{id}`` →
``queued`` → ``running`` → ``succeeded`` (``content.video_url``) | ``failed``;
``GET …/tasks`` lists. Auth: ``Authorization: Bearer <ARK_API_KEY>``.
Errors: ``{"error": {code, message, type}}``.
"""

from __future__ import annotations

import re

from tests.fakes.server import FakeServer, Req, Resp, shape_of

_CODES = {
    400: "InvalidParameter",
    401: "AuthenticationError",
    404: "InvalidEndpointOrModel.NotFound",
    422: "InvalidParameter",
    429: "RateLimitExceeded.EndpointRPMExceeded",
    500: "InternalServiceError",
    503: "ServerOverloaded",
}


class FakeBytePlus(FakeServer):
    name = "byteplus"

    def __init__(self, key: str = "ark-test-key-0000000", **kw) -> None:
        super().__init__(**kw)
        self.last_tokens: int | None = None
        self.key = key
        self.route("POST", r"/images/generations", self._images)
        self.route("POST", r"/contents/generations/tasks", self._create)
        self.route("GET", r"/contents/generations/tasks", self._list)
        self.route("GET", r"/contents/generations/tasks/(?P<id>[\w-]+)", self._get)

    def error_body(self, status: int, message: str):
        return {
            "error": {
                "code": _CODES.get(status, "InternalServiceError"),
                "message": message,
                "type": "TooManyRequests" if status == 429 else "BadRequest",
            }
        }

    def policy_response(self) -> Resp:
        return Resp(
            400,
            {
                "error": {
                    "code": "InputTextSensitiveContentDetected",
                    "message": "The request failed because the input text may contain sensitive information.",
                    "type": "BadRequest",
                }
            },
        )

    def check_auth(self, req: Req) -> Resp | None:
        return self.auth_failed(req, "authorization", f"Bearer {self.key}")

    def _images(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        job = self.new_job(req.json()["model"], req.json())
        if job.outcome == "policy":
            return self.policy_response()
        p = job.payload
        if job.outcome == "fail":
            return Resp(
                200,
                {
                    "model": p["model"],
                    "created": 0,
                    "data": [
                        {
                            "error": {
                                "code": "OutputImageSensitiveContentDetected",
                                "message": "output flagged",
                            }
                        }
                    ],
                },
            )
        w, h = shape_of(p, (1024, 1024))
        image = p.get("image")
        image = image[0] if isinstance(image, list) else image
        kind = "edit" if image else "generate"
        data, mime = self.render(
            kind,
            prompt=p.get("prompt", ""),
            image=image,
            width=w,
            height=h,
            seed=p.get("seed") or 0,
        )
        return Resp(
            200,
            {
                "model": p["model"],
                "created": 0,
                "data": [{"url": self.serve_file(data, mime), "size": f"{w}x{h}"}],
                "usage": {"generated_images": 1, "output_tokens": 4096, "total_tokens": 4096},
            },
        )

    def _create(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        job = self.new_job(req.json()["model"], req.json(), prefix="cgt-")
        return Resp(200, {"id": job.id})

    def _task(self, job, *, listed: bool = False) -> dict:
        """A task object; ``listed`` ones carry no result (the list is cheap)."""
        phase = job.phase()
        body = {
            "id": job.id,
            "model": job.endpoint,
            "status": {"queued": "queued", "running": "running", "cancelled": "cancelled"}.get(
                phase, "succeeded"
            ),
            "created_at": int(job.created_unix),
            "updated_at": int(job.created_unix),
        }
        if phase == "done":
            if job.outcome in ("fail", "policy"):
                code = (
                    "OutputVideoSensitiveContentDetected"
                    if job.outcome == "policy"
                    else "InternalServiceError"
                )
                body.update(status="failed", error={"code": code, "message": "generation failed"})
            elif not listed:
                p = job.payload
                text = p["content"][0]["text"]
                flag = re.search(r"--duration (\d+)", text)
                seconds = float(flag[1]) if flag else float(p.get("duration") or 5)
                if job.result is None:
                    image = p["content"][1]["image_url"]["url"]
                    data, mime = self.render("video", prompt=text, image=image, seconds=seconds)
                    job.result = self.serve_file(data, mime)
                # ModelArk bills tokens = seconds x W x H x fps / 1024 (720p 16:9 at 24 fps)
                short = {"480p": 480, "720p": 720, "1080p": 1080}.get(p.get("resolution"), 720)
                tokens = round(seconds * round(short * 16 / 9) * short * 24 / 1024)
                self.last_tokens = tokens
                body.update(
                    content={"video_url": job.result},
                    usage={"completion_tokens": tokens, "total_tokens": tokens},
                )
        return body

    def _get(self, req: Req) -> Resp:
        if refused := self.gate(req, "status"):
            return refused
        job = self.jobs.get(req.match["id"])
        if job is None:
            return Resp(404, self.error_body(404, "task not found"))
        return Resp(200, self._task(job))

    def _list(self, req: Req) -> Resp:
        """``GET …/tasks``, filtered by ``filter.model`` (PROVIDERS.md §6.3)."""
        if refused := self.gate(req, "list"):
            return refused
        model = (req.query.get("filter.model") or [None])[0]
        tasks = [
            j for j in self.jobs.values() if j.id.startswith("cgt-") and model in (None, j.endpoint)
        ]
        tasks.sort(key=lambda j: j.created_unix, reverse=True)
        return Resp(
            200, {"total": len(tasks), "items": [self._task(j, listed=True) for j in tasks[:50]]}
        )
