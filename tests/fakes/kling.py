"""A fake Kling API: image-to-video tasks with JWT auth (PROVIDERS.md §5).

``POST /v1/videos/image2video`` → ``{code: 0, data: {task_id, task_status}}``;
``GET /v1/videos/image2video/{id}`` → ``submitted`` → ``processing`` →
``succeed`` | ``failed``; ``GET /v1/videos/image2video`` lists tasks.
Every call must carry ``Authorization: Bearer <JWT>`` signed HS256 with the
secret key, ``iss`` = the access key, valid now. Errors carry Kling's
service codes (1002 bad token, 1301 content safety, 1302 rate limit…).
"""

from __future__ import annotations

import base64
import time

import jwt

from tests.fakes.server import FakeServer, Req, Resp

_PATH = "/v1/videos/image2video"


class FakeKling(FakeServer):
    name = "kling"

    def __init__(
        self,
        access: str = "kling-access-0000",
        secret: str = "kling-secret-0000000-0123456789abcdef",
        **kw,
    ) -> None:
        super().__init__(**kw)
        self.access, self.secret = access, secret
        self.route("POST", _PATH, self._create)
        self.route("GET", _PATH, self._list)
        self.route("GET", _PATH + r"/(?P<id>\w+)", self._query)

    def error_body(self, status: int, message: str):
        code = {401: 1002, 429: 1302, 422: 1201, 400: 1201}.get(status, 5000)
        return {"code": code, "message": message, "request_id": "req-fake"}

    def policy_response(self) -> Resp:
        return Resp(
            400, {"code": 1301, "message": "Trigger the content security policy", "request_id": "r"}
        )

    def check_auth(self, req: Req) -> Resp | None:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            return Resp(
                401,
                {
                    "code": 1002,
                    "message": f"Authorization is invalid: {type(exc).__name__}",
                    "request_id": "r",
                },
            )
        if claims.get("iss") != self.access:
            return Resp(401, {"code": 1002, "message": "unknown access key", "request_id": "r"})
        return None

    def _task(self, job) -> dict:
        phase = job.phase()
        status = {"queued": "submitted", "running": "processing"}.get(phase, "succeed")
        task = {
            "task_id": job.id,
            "task_status": status,
            "task_info": {"external_task_id": job.payload.get("external_task_id")},
            "created_at": int(job.created_unix * 1000),
            "updated_at": int(time.time() * 1000),
        }
        if phase == "done":
            if job.outcome in ("fail", "policy"):
                task["task_status"] = "failed"
                task["task_status_msg"] = (
                    "Failure to pass the risk control system"
                    if job.outcome == "policy"
                    else "Internal error, please retry"
                )
            else:
                if job.result is None:
                    p = job.payload
                    image = base64.b64decode(p["image"])
                    data, mime = self.render(
                        "video",
                        prompt=p.get("prompt", ""),
                        image=base64.b64encode(image).decode(),
                        seconds=float(p.get("duration", "5")),
                    )
                    job.result = {
                        "videos": [
                            {
                                "id": f"v{job.id}",
                                "url": self.serve_file(data, mime),
                                "duration": p.get("duration", "5"),
                            }
                        ]
                    }
                task["task_result"] = job.result
        return task

    def _create(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        body = req.json()
        if not body.get("image") or str(body["image"]).startswith("data:"):
            return Resp(
                400, {"code": 1201, "message": "image: raw base64 expected", "request_id": "r"}
            )
        # Recorded as the catalog names the endpoint: model and, when sent, mode.
        endpoint = "/".join(filter(None, (body.get("model_name", "kling-v1"), body.get("mode"))))
        job = self.new_job(endpoint, body)
        return Resp(
            200,
            {
                "code": 0,
                "message": "SUCCEED",
                "request_id": "r",
                "data": {"task_id": job.id, "task_status": "submitted"},
            },
        )

    def _query(self, req: Req) -> Resp:
        if refused := self.gate(req, "status"):
            return refused
        key = req.match["id"]  # a task_id, or the client's external_task_id
        job = self.jobs.get(key) or next(
            (j for j in self.jobs.values() if j.payload.get("external_task_id") == key), None
        )
        if job is None:
            return Resp(404, {"code": 1203, "message": "task not found", "request_id": "r"})
        return Resp(
            200, {"code": 0, "message": "SUCCEED", "request_id": "r", "data": self._task(job)}
        )

    def _list(self, req: Req) -> Resp:
        if refused := self.gate(req):
            return refused
        return Resp(
            200,
            {
                "code": 0,
                "message": "SUCCEED",
                "request_id": "r",
                "data": [self._task(j) for j in list(self.jobs.values())[:1]],
            },
        )
