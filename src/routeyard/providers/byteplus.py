"""BytePlus ModelArk: Seedream images and Seedance video tasks (PROVIDERS.md §6).

Seedream is OpenAI-like and synchronous: ``POST /images/generations``
answers ``data[].url`` (valid 24 h) or an item-level ``error``. Seedance is
a task: ``POST /contents/generations/tasks`` answers ``{id}``; ``GET
…/tasks/{id}`` reports ``queued`` → ``running`` → ``succeeded`` | ``failed``
| ``cancelled`` with ``content.video_url``. Seedance 1.0 takes its render
settings as flags appended to the prompt (``--duration 5 --ratio 16:9``).
Errors are ``{"error": {code, message}}``; moderation codes start with
``SensitiveContentDetected`` or name an input/output image.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routeyard import billing
from routeyard.providers.base import (
    AuthError,
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    ProviderError,
    RateLimitedError,
    Task,
    TransientError,
)
from routeyard.providers.hosted import (
    CLOCK_SKEW_S,
    NOT_ACCEPTED,
    HostedProvider,
    Job,
    Poll,
    Prepared,
)
from routeyard.providers.mapping import nearest_aspect, normalise, png_bytes
from routeyard.providers.transfer import (
    JobLostError,
    Remote,
    body_of,
    data_uri,
    json_of,
    retry_after,
    status_error,
)

BASE_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"
_RATIOS = ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "9:21"]
_TASKS = "/contents/generations/tasks"


def error_for(code: str, message: str, http_status: int, headers=None) -> ProviderError:
    text = f"byteplus: {code or http_status}: {message}"
    if "Sensitive" in code or "Moderation" in code:
        return PolicyRejectedError(text)
    if http_status == 401 or code in ("AuthenticationError", "AccessDenied"):
        return AuthError(text)
    if code in ("AccountOverdueError", "ModelNotOpen", "InvalidEndpointOrModel.NotFound"):
        return PermanentError(text)
    if http_status == 429 or code.startswith(
        ("RateLimitExceeded", "QuotaExceeded", "ServerOverloaded")
    ):
        return RateLimitedError(text, retry_after=retry_after(headers) if headers else None)
    if http_status >= 500:
        return TransientError(text)
    if http_status in (400, 404, 422) or code.startswith(("InvalidParameter", "MissingParameter")):
        return InvalidInputError(text)
    return PermanentError(text)


class BytePlusProvider(HostedProvider):
    name = "byteplus"
    default_base_url = BASE_URL
    default_limits: ClassVar[dict[str, Any]] = {"concurrency": 10, "requests_per_minute": 300}

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.settings.credential('ARK_API_KEY')}"}

    def is_synchronous(self, endpoint: str) -> bool:
        return endpoint.startswith("seedream")

    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        where = f"{task.model} on byteplus ({endpoint})"
        images = [data_uri(*png_bytes(a)) for a in req.images]
        if endpoint.startswith("seedream"):
            body: dict[str, Any] = {
                "model": endpoint,
                "prompt": req.prompt,
                "seed": req.seed,
                "size": f"{req.width}x{req.height}" if req.width and req.height else "2K",
                "response_format": "url",
                "sequential_image_generation": "disabled",
                "watermark": False,
            }
            if images:
                body["image"] = images if len(images) > 1 else images[0]
            return Prepared(
                payload=body,
                warnings=req.unsupported({"prompt", "width", "height"}, where),
                path="/images/generations",
            )
        if not images:
            raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
        if not endpoint.startswith("seedance-1-0"):
            return self._seedance_v2(task, endpoint, req, images[0], where)
        seconds = min(12, max(2, round(req.seconds or 5)))
        ratio = nearest_aspect(req.aspect, _RATIOS, "16:9") if req.aspect else "adaptive"
        flags = (
            f"--resolution 720p --ratio {ratio} --duration {seconds} --framepersecond 24 "
            f"--camerafixed {'true' if req.camera == 'static' else 'false'} "
            f"--seed {req.seed} --watermark false"
        )
        content = [
            {"type": "text", "text": f"{req.prompt_with_camera()} {flags}".strip()},
            {"type": "image_url", "image_url": {"url": images[0]}, "role": "first_frame"},
        ]
        warnings = req.unsupported({"prompt", "seconds", "camera"}, where)
        if req.fps and req.fps != 24:
            warnings.append(f"{task.model} renders 24 fps; the step asked {req.fps}")
        return Prepared(
            payload={"model": endpoint, "content": content}, warnings=warnings, path=_TASKS
        )

    def _seedance_v2(self, task: Task, endpoint: str, req, image: str, where: str) -> Prepared:
        """Seedance 1.5 and 2.x take their settings as top-level fields (resolution,
        ratio, duration, seed, generate_audio), not as prompt flags."""
        model, _ = self.endpoint(task)
        notes: list[str] = []
        offered = tuple(int(d) for d in model.limits.durations) or (5,)
        resolutions = model.limits.resolutions or ("720p",)
        resolution = (
            req.resolution
            if req.resolution in resolutions
            else billing.default_resolution(resolutions)
        )
        body: dict[str, Any] = {
            "model": endpoint,
            "content": [
                {"type": "text", "text": req.prompt_with_camera()},
                {"type": "image_url", "image_url": {"url": image}, "role": "first_frame"},
            ],
            "resolution": resolution,
            "ratio": nearest_aspect(req.aspect, _RATIOS, "16:9") if req.aspect else "adaptive",
            "duration": req.duration_tier(offered, where, notes),
            "seed": req.seed,
            "camera_fixed": req.camera == "static",
            "watermark": False,
            "generate_audio": req.audio,
        }
        honoured = {"prompt", "seconds", "camera", "resolution", "audio"}
        warnings = notes + req.unsupported(honoured, where)
        return Prepared(payload=body, warnings=warnings, path=_TASKS)

    async def submit(self, endpoint: str, prepared: Prepared) -> Job | Poll:
        # A synchronous call waits for the image itself; a task create answers at once.
        wait = None if prepared.path == _TASKS else 180
        r = await self.http.call(
            "POST", prepared.path, json=prepared.payload, timeout_s=wait, submit=True
        )
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        if not isinstance(data, dict):
            raise TransientError("byteplus: answer is not a JSON object")
        if prepared.path == _TASKS:
            if not data.get("id"):
                raise TransientError("byteplus: task answer without an id")
            return Job(str(data["id"]))
        if data.get("error"):
            err = data["error"]
            return Poll(
                "failed", error=error_for(str(err.get("code", "")), str(err.get("message")), 400)
            )
        files, errors = [], []
        for item in data.get("data") or []:
            if item.get("error"):
                errors.append(item["error"])
            elif item.get("url"):
                files.append(Remote(url=item["url"]))
            elif item.get("b64_json"):
                files.append(Remote(url=f"data:image/png;base64,{item['b64_json']}"))
        if not files and errors:
            err = errors[0]
            return Poll(
                "failed", error=error_for(str(err.get("code", "")), str(err.get("message")), 400)
            )
        return Poll("succeeded", files=files, facts={"usage": data.get("usage") or {}})

    async def reconcile(self, endpoint: str, meta: dict[str, Any]) -> Job | object | None:
        """Ark takes no client reference; its task list, filtered by model, shows
        the tasks created since the request left: exactly one is ours, none means
        it was never created, several (a fan-out) cannot be told apart."""
        r = await self.http.call(
            "GET", _TASKS, params={"page_num": 1, "page_size": 50, "filter.model": endpoint}
        )
        if r.status_code >= 300:
            raise self._error(r)
        listing = json_of(self.name, r)
        since = float(meta.get("since") or 0) - CLOCK_SKEW_S
        items = listing.get("items") or [] if isinstance(listing, dict) else []
        recent = [t for t in items if float(t.get("created_at") or 0) >= since]
        if not recent:
            return NOT_ACCEPTED
        return Job(str(recent[0]["id"])) if len(recent) == 1 else None

    async def poll(self, job: Job) -> Poll:
        r = await self.http.call("GET", f"{_TASKS}/{job.id}")
        if r.status_code == 404:
            raise JobLostError(f"byteplus: task {job.id} not found")
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        status = data.get("status") if isinstance(data, dict) else None
        if status == "queued":
            return Poll("queued")
        if status == "running":
            return Poll("running")
        if status == "succeeded":
            url = (data.get("content") or {}).get("video_url")
            facts = {
                k: data.get(k) for k in ("usage", "duration", "resolution", "seed") if k in data
            }
            tokens = (data.get("usage") or {}).get("completion_tokens")
            if isinstance(tokens, int) and not isinstance(tokens, bool):
                facts["billed_tokens"] = tokens
            return Poll(
                "succeeded", files=[Remote(url=url, mime="video/mp4")] if url else [], facts=facts
            )
        if status in ("failed", "cancelled"):
            err = data.get("error") or {}
            code = str(err.get("code") or "")
            message = str(err.get("message") or data.get("failure_reason") or status)
            return Poll(status, error=error_for(code, message, 400 if code else 500))
        raise TransientError(f"byteplus: unknown task status {status!r}")

    async def cancel(self, job: Job) -> None:
        await self.http.call("DELETE", f"{_TASKS}/{job.id}")

    async def check(self) -> str:
        r = await self.http.call("GET", _TASKS, params={"page_num": 1, "page_size": 1})
        if r.status_code >= 300:
            raise self._error(r)
        json_of(self.name, r)
        return "key accepted (task list read; nothing spent)"

    def _error(self, r) -> ProviderError:
        body = body_of(r)
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return status_error(self.name, r, r.text[:120])
        return error_for(
            str(err.get("code") or ""), str(err.get("message") or ""), r.status_code, r.headers
        )
