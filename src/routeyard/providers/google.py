"""The Gemini API: Nano Banana images and Veo videos (PROVIDERS.md §4).

Nano Banana is request/response: ``POST /v1beta/models/{m}:generateContent``
with the prompt and input images as inline parts; the image comes back
inline as base64. A refusal is an HTTP 200 whose ``promptFeedback`` has a
``blockReason`` or whose candidate ended with a safety ``finishReason``.

Veo is a long-running operation: ``POST …:predictLongRunning`` answers an
operation ``name``; ``GET /v1beta/{name}`` until ``done``; the video's
``uri`` is an authenticated download from the same host.
"""

from __future__ import annotations

import base64
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
from routeyard.providers.hosted import HostedProvider, Job, Poll, Prepared
from routeyard.providers.mapping import nearest_aspect, normalise, png_bytes
from routeyard.providers.transfer import JobLostError, Remote, b64, body_of, json_of, retry_after

BASE_URL = "https://generativelanguage.googleapis.com"
_ASPECTS = ["21:9", "16:9", "4:3", "3:2", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16"]
_REFUSED = {
    "SAFETY",
    "IMAGE_SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_RECITATION",
}


class GoogleProvider(HostedProvider):
    name = "google"
    default_base_url = BASE_URL
    default_limits: ClassVar[dict[str, Any]] = {"concurrency": 5, "requests_per_minute": 60}

    def auth_headers(self) -> dict[str, str]:
        return {
            "x-goog-api-key": self.settings.credential("GEMINI_API_KEY", "GOOGLE_API_KEY") or ""
        }

    def is_synchronous(self, endpoint: str) -> bool:
        # Veo is a long-running operation; the image models answer in the call.
        return not endpoint.startswith("veo")

    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        where = f"{task.model} on google ({endpoint})"
        if endpoint.startswith("veo"):
            if not req.images:
                raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
            data, mime = png_bytes(req.images[0])
            notes: list[str] = []
            model, _ = self.endpoint(task)
            offered = model.limits.resolutions or ("720p",)
            resolution = (
                req.resolution if req.resolution in offered else billing.default_resolution(offered)
            )
            if req.resolution and req.resolution not in offered:
                notes.append(f"{where} renders {resolution}, not {req.resolution}")
            parameters: dict[str, Any] = {
                "aspectRatio": nearest_aspect(req.aspect, ["16:9", "9:16"], "16:9"),
                "durationSeconds": req.duration_tier((4, 6, 8), where, notes),
                "resolution": resolution,
            }
            if model.audio and "audio" in req.set_params and not req.audio:
                notes.append(f"{where} always renders native audio on the Gemini API")
            if req.negative_prompt:
                parameters["negativePrompt"] = req.negative_prompt
            instance = {
                "prompt": req.prompt_with_camera(),
                "image": {"bytesBase64Encoded": b64(data), "mimeType": mime},
            }
            warnings = notes + req.unsupported(
                {"prompt", "seconds", "camera", "negative_prompt", "resolution", "audio"}, where
            )
            return Prepared(
                payload={"instances": [instance], "parameters": parameters},
                warnings=warnings,
                path=f"/v1beta/models/{endpoint}:predictLongRunning",
            )
        model, _ = self.endpoint(task)
        most = model.limits.max_reference_images
        if most is not None and len(req.images) > most:
            raise InvalidInputError(
                f"step '{task.node}': {task.model} takes at most {most} reference images, "
                f"got {len(req.images)}"
            )
        parts: list[dict[str, Any]] = [{"text": req.prompt or ""}]
        for image in req.images:
            data, mime = png_bytes(image)
            parts.append({"inlineData": {"mimeType": mime, "data": b64(data)}})
        config: dict[str, Any] = {"responseModalities": ["IMAGE"], "seed": req.seed}
        image_config: dict[str, Any] = {}
        aspects = list(model.limits.aspects) if model.limits.aspects != "any" else _ASPECTS
        if req.aspect:
            image_config["aspectRatio"] = nearest_aspect(req.aspect, aspects, "1:1")
        honoured = {"prompt", "aspect"}
        if model.limits.resolutions:  # Gemini 3 image models: imageSize 1K / 2K / 4K
            image_config["imageSize"] = req.resolution or billing.image_tier(
                req.width, req.height, model.limits.resolutions
            )
            honoured |= {"resolution", "width", "height"}
        if image_config:
            config["imageConfig"] = image_config
        payload = {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}
        warnings = req.unsupported(honoured, where)
        return Prepared(
            payload=payload, warnings=warnings, path=f"/v1beta/models/{endpoint}:generateContent"
        )

    async def submit(self, endpoint: str, prepared: Prepared) -> Job | Poll:
        # A synchronous call waits for the image itself; a task create answers at once.
        wait = None if not self.is_synchronous(endpoint) else 180
        r = await self.http.call(
            "POST", prepared.path, json=prepared.payload, timeout_s=wait, submit=True
        )
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        if not isinstance(data, dict):
            raise TransientError("google: answer is not a JSON object")
        if endpoint.startswith("veo"):
            if not data.get("name"):
                raise TransientError("google: operation answer without a name")
            return Job(data["name"], {"name": data["name"]})
        return self._image(data)

    def _image(self, data: dict[str, Any]) -> Poll:
        block = (data.get("promptFeedback") or {}).get("blockReason")
        if block:
            return Poll("failed", error=PolicyRejectedError(f"google: prompt blocked ({block})"))
        for candidate in data.get("candidates") or []:
            for part in (candidate.get("content") or {}).get("parts") or []:
                inline = part.get("inlineData") or part.get("inline_data")
                if inline and inline.get("data"):
                    raw = base64.b64decode(inline["data"])
                    mime = inline.get("mimeType") or inline.get("mime_type")
                    facts = {"modelVersion": data.get("modelVersion")}
                    usage = data.get("usageMetadata") or {}
                    if isinstance(usage.get("candidatesTokenCount"), int):
                        facts["billed_tokens"] = usage["candidatesTokenCount"]
                    return Poll("succeeded", files=[Remote(data=raw, mime=mime)], facts=facts)
            reason = candidate.get("finishReason")
            if reason in _REFUSED:
                return Poll("failed", error=PolicyRejectedError(f"google: refused ({reason})"))
            if reason:
                return Poll("failed", error=PermanentError(f"google: no image ({reason})"))
        return Poll("failed", error=PermanentError("google: the answer holds no image"))

    async def poll(self, job: Job) -> Poll:
        r = await self.http.call("GET", f"/v1beta/{job.meta.get('name') or job.id}")
        if r.status_code == 404:
            raise JobLostError(f"google: operation {job.id} not found")
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        if not isinstance(data, dict):
            raise TransientError("google: operation is not a JSON object")
        if not data.get("done"):
            return Poll("running")
        if data.get("error"):
            err = data["error"]
            kind = InvalidInputError if err.get("code") == 400 else PermanentError
            return Poll("failed", error=kind(f"google: {err.get('message', 'operation failed')}"))
        answer = (data.get("response") or {}).get("generateVideoResponse") or {}
        samples = answer.get("generatedSamples") or []
        files = []
        for sample in samples:
            video = sample.get("video") or {}
            if video.get("uri"):
                files.append(Remote(url=video["uri"], mime="video/mp4", authenticated=True))
            elif video.get("encodedVideo"):
                files.append(Remote(data=base64.b64decode(video["encodedVideo"]), mime="video/mp4"))
        if not files and answer.get("raiMediaFilteredCount"):
            reasons = "; ".join(answer.get("raiMediaFilteredReasons") or []) or "filtered"
            return Poll("failed", error=PolicyRejectedError(f"google: {reasons}"))
        return Poll("succeeded", files=files)

    async def check(self) -> str:
        r = await self.http.call("GET", "/v1beta/models", params={"pageSize": 1})
        if r.status_code >= 300:
            raise self._error(r)
        json_of(self.name, r)
        return "key accepted (model list read; nothing spent)"

    def _error(self, r) -> ProviderError:
        body = body_of(r)
        err = body.get("error") if isinstance(body, dict) else None
        err = err if isinstance(err, dict) else {}
        message = str(err.get("message") or r.text[:120])
        status = err.get("status", "")
        text = f"google: HTTP {r.status_code} {status}: {message}"
        details = str(err.get("details") or "")
        if "API_KEY_INVALID" in details or "API key not valid" in message:
            return AuthError(text)
        if r.status_code in (401, 403) or status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            return AuthError(text)
        if r.status_code == 429 or status == "RESOURCE_EXHAUSTED":
            return RateLimitedError(text, retry_after=retry_after(r.headers, body))
        if r.status_code >= 500 or r.status_code == 408:
            return TransientError(text)
        if r.status_code in (400, 404, 422) or status in (
            "INVALID_ARGUMENT",
            "FAILED_PRECONDITION",
        ):
            return InvalidInputError(text)
        return PermanentError(text)
