"""A fake Gemini API: Nano Banana ``generateContent`` and Veo long-running
operations (PROVIDERS.md §4).

``POST /v1beta/models/{m}:generateContent`` answers at once with the image
inline (base64); a refusal is an HTTP 200 with ``promptFeedback.blockReason``.
``POST /v1beta/models/{m}:predictLongRunning`` → ``{name}``; ``GET
/v1beta/{name}`` → ``done`` + ``response.generateVideoResponse``; the video
``uri`` is an authenticated ``files/{id}:download`` on the same host.
Auth: ``x-goog-api-key``. Errors are Google-style ``{"error": {code, message, status}}``.
"""

from __future__ import annotations

import base64

from tests.fakes.server import FakeServer, Req, Resp, shape_of

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class FakeGoogle(FakeServer):
    name = "google"

    def __init__(self, key: str = "AIza-test-key-000000", **kw) -> None:
        super().__init__(**kw)
        self.last_tokens: int | None = None
        self.listed: list[str] | None = None  # the model list `models sync` reads
        self.key = key
        self.route("POST", r"/v1beta/models/(?P<model>[\w.-]+):generateContent", self._generate)
        self.route("POST", r"/v1beta/models/(?P<model>[\w.-]+):predictLongRunning", self._start)
        self.route("GET", r"/v1beta/(?P<name>models/[\w.-]+/operations/\w+)", self._operation)
        self.route("GET", r"/v1beta/files/(?P<id>\w+):download", self._download)
        self.route("GET", r"/v1beta/models", self._models)

    def error_body(self, status: int, message: str):
        body = {
            "error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
        }
        if status == 429:
            body["error"]["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.2s"}
            ]
        return body

    def policy_response(self) -> Resp:
        return Resp(
            200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "candidates": []}
        )

    def check_auth(self, req: Req) -> Resp | None:
        if req.headers.get("x-goog-api-key") != self.key:
            return Resp(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [{"reason": "API_KEY_INVALID"}],
                    }
                },
            )
        return None

    def _models(self, req: Req) -> Resp:
        if refused := self.gate(req, "listing"):
            return refused
        names = self.listed if self.listed is not None else ["gemini-2.5-flash-image"]
        start = int((req.query.get("pageToken") or ["0"])[0])
        size = min(int((req.query.get("pageSize") or ["50"])[0]), 3)  # small pages, to page
        body: dict = {"models": [{"name": f"models/{n}"} for n in names[start : start + size]]}
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        return Resp(200, body)

    def _generate(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        job = self.new_job(req.match["model"], req.json())
        if job.outcome == "policy":
            return self.policy_response()
        if job.outcome == "fail":
            return Resp(
                200,
                {
                    "candidates": [
                        {
                            "content": {"parts": [{"text": "I can't make that image."}]},
                            "finishReason": "NO_IMAGE",
                        }
                    ]
                },
            )
        parts = job.payload["contents"][0]["parts"]
        prompt = next((p["text"] for p in parts if "text" in p), "")
        images = [p["inlineData"]["data"] for p in parts if "inlineData" in p]
        seed = job.payload.get("generationConfig", {}).get("seed", 0)
        size = (job.payload.get("generationConfig", {}).get("imageConfig") or {}).get("imageSize")
        side = {"0.5K": 512, "1K": 1024, "2K": 2048, "4K": 4096}.get(size, 1024)
        # Gemini 3 image models bill image output tokens by size (1120 at 1K/2K, 2000 at 4K)
        self.last_tokens = {"0.5K": 747, "1K": 1120, "2K": 1120, "4K": 2000}.get(size, 1290)
        if images:
            data, mime = self.render("edit", prompt=prompt, image=images[0])
        else:
            w, h = shape_of(job.payload, (side // 2, side // 2))
            data, mime = self.render("generate", prompt=prompt, width=w, height=h, seed=seed)
        return Resp(
            200,
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {"text": "Here is the image."},
                                {
                                    "inlineData": {
                                        "mimeType": mime,
                                        "data": base64.b64encode(data).decode(),
                                    }
                                },
                            ],
                        },
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": self.last_tokens},
                "modelVersion": req.match["model"],
                "responseId": job.id,
            },
        )

    def _start(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        model = req.match["model"]
        job = self.new_job(model, req.json(), prefix="op")
        return Resp(200, {"name": f"models/{model}/operations/{job.id}"})

    def _operation(self, req: Req) -> Resp:
        if refused := self.gate(req, "status"):
            return refused
        name = req.match["name"]
        job = self.jobs.get(name.rsplit("/", 1)[1])
        if job is None:
            return Resp(404, self.error_body(404, f"Operation {name} not found"))
        if job.phase() != "done":
            return Resp(200, {"name": name, "done": False})
        if job.outcome == "fail":
            return Resp(
                200,
                {"name": name, "done": True, "error": {"code": 13, "message": "Internal error"}},
            )
        if job.outcome == "policy":
            return Resp(
                200,
                {
                    "name": name,
                    "done": True,
                    "response": {
                        "generateVideoResponse": {
                            "raiMediaFilteredCount": 1,
                            "raiMediaFilteredReasons": ["Video filtered by safety policy"],
                        }
                    },
                },
            )
        if job.result is None:
            inst = job.payload["instances"][0]
            data, _ = self.render(
                "video",
                prompt=inst.get("prompt", ""),
                image=inst["image"]["bytesBase64Encoded"],
                seconds=float(job.payload.get("parameters", {}).get("durationSeconds", 8)),
            )
            fid = self.new_id("file")
            self.files[fid] = (data, "video/mp4")
            job.result = f"{self.url}/v1beta/files/{fid}:download?alt=media"
        return Resp(
            200,
            {
                "name": name,
                "done": True,
                "response": {
                    "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                    "generateVideoResponse": {"generatedSamples": [{"video": {"uri": job.result}}]},
                },
            },
        )

    def _download(self, req: Req) -> Resp:
        if req.headers.get("x-goog-api-key") != self.key:
            return Resp(403, self.error_body(403, "download needs the API key"))
        if req.match["id"] not in self.files:
            return Resp(404, self.error_body(404, "no such file"))
        data, mime = self.files[req.match["id"]]
        self.downloads[req.match["id"]] += 1
        return Resp(200, data, {"content-type": mime})
