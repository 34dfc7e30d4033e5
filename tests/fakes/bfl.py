"""A fake Black Forest Labs API (PROVIDERS.md §3).

``POST /v1/{model}`` → ``{id, polling_url, cost}``; ``GET /v1/get_result?id=``
→ ``Pending`` (with ``progress``) → ``Ready`` (``result.sample``) | ``Error``
| ``Content Moderated`` | ``Task not found``; ``GET /v1/credits``.
Auth: ``x-key``. Images in and out of the fake are real (base64 in).
"""

from __future__ import annotations

from tests.fakes.server import FakeServer, Req, Resp, shape_of


class FakeBfl(FakeServer):
    name = "bfl"

    def __init__(self, key: str = "bfl-test-key-000000", **kw) -> None:
        super().__init__(**kw)
        self.key = key
        self.route("GET", r"/v1/get_result", self._result)
        self.route("GET", r"/v1/credits", self._credits)
        self.route("POST", r"/v1/(?P<model>[\w.-]+)", self._submit)

    def policy_response(self) -> Resp:
        return Resp(400, {"detail": "Request Moderated: the prompt was flagged"})

    def check_auth(self, req: Req) -> Resp | None:
        return self.auth_failed(req, "x-key", self.key)

    def _credits(self, req: Req) -> Resp:
        return self.gate(req) or Resp(200, {"credits": 1234.5})

    def _submit(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        job = self.new_job(req.match["model"], req.json())
        return Resp(
            200, {"id": job.id, "polling_url": f"{self.url}/v1/get_result?id={job.id}", "cost": 4.0}
        )

    def _result(self, req: Req) -> Resp:
        if refused := self.gate(req, "status"):
            return refused
        job = self.jobs.get((req.query.get("id") or [""])[0])
        if job is None:
            return Resp(200, {"id": None, "status": "Task not found", "result": None})
        phase = job.phase()
        if phase != "done":
            return Resp(
                200,
                {
                    "id": job.id,
                    "status": "Pending",
                    "result": None,
                    "progress": 0.1 if phase == "queued" else 0.6,
                },
            )
        if job.outcome == "policy":
            return Resp(200, {"id": job.id, "status": "Content Moderated", "result": None})
        if job.outcome == "fail":
            return Resp(
                200, {"id": job.id, "status": "Error", "result": None, "details": "internal error"}
            )
        if job.result is None:
            p = job.payload
            if "fill" in job.endpoint:
                data, mime = self.render("inpaint", image=p["image"], mask=p["mask"])
            elif p.get("input_image"):
                data, mime = self.render("edit", prompt=p.get("prompt", ""), image=p["input_image"])
            else:
                data, mime = self.render(
                    "generate",
                    prompt=p.get("prompt", ""),
                    width=shape_of(p, (1024, 768))[0],
                    height=shape_of(p, (1024, 768))[1],
                    seed=p.get("seed") or 0,
                )
            job.result = {
                "sample": self.serve_file(data, mime) + "?se=2026-01-01&sig=abc",
                "seed": p.get("seed"),
            }
        return Resp(200, {"id": job.id, "status": "Ready", "result": job.result, "progress": 1.0})
