"""Kling's own API for image-to-video (PROVIDERS.md §5).

Every call carries a JWT signed with the secret key (HS256, ``iss`` = access
key, 30 minutes). ``POST /v1/videos/image2video`` answers
``{code: 0, data: {task_id, task_status}}``; ``GET
/v1/videos/image2video/{task_id}`` reports ``submitted`` → ``processing`` →
``succeed`` | ``failed`` (spelled so). Errors carry a service ``code`` that
says more than the HTTP status: 1000–1004 auth, 1102 resource pack
exhausted, 1200s bad parameters, 1300s policy and rate limits, 5000s
server trouble. Images go inline as raw base64, without a ``data:`` prefix.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import jwt

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
from routeyard.providers.hosted import NOT_ACCEPTED, HostedProvider, Job, Poll, Prepared
from routeyard.providers.mapping import normalise, png_bytes
from routeyard.providers.transfer import (
    JobLostError,
    Remote,
    b64,
    body_of,
    retry_after,
    status_error,
)

BASE_URL = "https://api-singapore.klingai.com"
_TOKEN_LIFE_S = 1800
_PATH = "/v1/videos/image2video"


def error_for(code: int, message: str, http_status: int, headers=None) -> ProviderError:
    """Kling's service code → routeyard's error kind."""
    text = f"kling: code {code}: {message}"
    if 1000 <= code <= 1004 or code in (1103, 1304):
        return AuthError(text)
    if code in (1100, 1101, 1102):
        return PermanentError(f"{text} (account or resource pack)")
    if code in (1200, 1201, 1202, 1203):
        return InvalidInputError(text)
    if code in (1300, 1301):
        return PolicyRejectedError(text)
    if code in (1302, 1303):
        return RateLimitedError(text, retry_after=retry_after(headers) if headers else None)
    if 5000 <= code < 6000 or http_status >= 500:
        return TransientError(text)
    return PermanentError(text)


class KlingProvider(HostedProvider):
    name = "kling"
    default_base_url = BASE_URL
    default_limits: ClassVar[dict[str, Any]] = {"concurrency": 5, "requests_per_minute": 120}

    def __init__(self, settings=None, **kw: Any) -> None:
        super().__init__(settings, **kw)
        self._token: tuple[str, float] | None = None

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token()}"}

    def token(self) -> str:
        """A JWT from the access key, signed with the secret key; reused until near expiry."""
        now = time.time()
        if self._token and self._token[1] - now > 300:
            return self._token[0]
        access = self.settings.credential("KLING_ACCESS_KEY") or ""
        secret = self.settings.credential("KLING_SECRET_KEY") or ""
        claims = {"iss": access, "exp": int(now) + _TOKEN_LIFE_S, "nbf": int(now) - 5}
        token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
        self._token = (token, now + _TOKEN_LIFE_S)
        return token

    def configured(self) -> bool:
        return bool(
            self.settings.credential("KLING_ACCESS_KEY")
            and self.settings.credential("KLING_SECRET_KEY")
        )

    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        if not req.images:
            raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
        model_name, _, mode = endpoint.partition("/")
        model, _ = self.endpoint(task)
        notes: list[str] = []
        image = b64(png_bytes(req.images[0])[0])
        offered = tuple(int(d) for d in model.limits.durations) or (5, 10)
        body: dict[str, Any] = {
            "model_name": model_name,
            "image": image,
            "prompt": req.prompt_with_camera()[:2500],
            "duration": str(req.duration_tier(offered, f"{task.model} on kling", notes)),
        }
        if mode:
            body["mode"] = mode
        if req.negative_prompt:
            body["negative_prompt"] = req.negative_prompt[:2500]
        honoured = {"prompt", "seconds", "camera", "negative_prompt"}
        if model.audio:  # Kling 2.6 and later: native audio, on or off
            body["sound"] = "on" if req.audio else "off"
            honoured.add("audio")
        warnings = notes + req.unsupported(honoured, f"{task.model} on kling ({endpoint})")
        if "camera" in req.set_params:
            warnings.append(f"{model_name} takes the camera move as words in the prompt")
        return Prepared(payload=body, warnings=warnings)

    async def submit(self, endpoint: str, prepared: Prepared) -> Job:
        # ``external_task_id``: our token, so a task whose create answer is lost
        # can be looked up by it (PROVIDERS.md §5.2).
        body = {**prepared.payload, "external_task_id": prepared.client_ref}
        r = await self.http.call("POST", _PATH, json=body, submit=True)
        data = self._envelope(r)
        task_id = (data.get("data") or {}).get("task_id")
        if not task_id:
            raise TransientError("kling: create answer without data.task_id")
        return Job(str(task_id), {"path": f"{_PATH}/{task_id}"})

    async def reconcile(self, endpoint: str, meta: dict[str, Any]) -> Job | object | None:
        """Query the task by its ``external_task_id``: Kling knows it, or not."""
        r = await self.http.call("GET", f"{_PATH}/{meta['client_ref']}")
        try:
            data = self._envelope(r)
        except InvalidInputError as exc:
            if "1203" in str(exc) or r.status_code == 404:
                return NOT_ACCEPTED
            raise
        task_id = (data.get("data") or {}).get("task_id")
        return Job(str(task_id), {"path": f"{_PATH}/{task_id}"}) if task_id else None

    async def poll(self, job: Job) -> Poll:
        r = await self.http.call("GET", job.meta.get("path") or f"{_PATH}/{job.id}")
        try:
            data = self._envelope(r)
        except InvalidInputError as exc:
            if "1203" in str(exc) or r.status_code == 404:
                raise JobLostError(f"kling: task {job.id} not found") from None
            raise
        task = data.get("data") or {}
        status = task.get("task_status")
        if status == "submitted":
            return Poll("queued")
        if status == "processing":
            return Poll("running")
        if status == "succeed":
            videos = (task.get("task_result") or {}).get("videos") or []
            files = [Remote(url=v.get("url"), mime="video/mp4") for v in videos if v.get("url")]
            facts = {"durations": [v.get("duration") for v in videos]}
            return Poll("succeeded", files=files, facts=facts)
        if status == "failed":
            message = task.get("task_status_msg") or "failed"
            low = message.lower()
            policy = any(w in low for w in ("risk", "safety", "sensitive", "content"))
            error = (PolicyRejectedError if policy else PermanentError)(f"kling: {message}")
            return Poll("failed", error=error)
        raise TransientError(f"kling: unknown task_status {status!r}")

    async def check(self) -> str:
        r = await self.http.call("GET", _PATH, params={"pageNum": 1, "pageSize": 1})
        self._envelope(r)
        return "keys accepted (task list read; nothing spent)"

    def _envelope(self, r) -> dict[str, Any]:
        """The JSON envelope of a call, or the error its code means."""
        body = body_of(r)
        if not isinstance(body, dict):  # a gateway page or a garbled answer
            raise TransientError(f"kling: HTTP {r.status_code} without a JSON body")
        code = body.get("code", 0 if r.status_code < 300 else -1)
        if r.status_code < 300 and code == 0:
            return body
        message = str(body.get("message") or "")
        if code == -1:  # an error without a service code (a gateway, a proxy)
            raise status_error(self.name, r, message)
        raise error_for(int(code), message, r.status_code, r.headers)
