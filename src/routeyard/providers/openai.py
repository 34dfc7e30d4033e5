"""OpenAI's image API: GPT Image 2 generates and edits (with a mask).

``POST /v1/images/generations`` (JSON: model, prompt, size ``WxH``, quality,
output_format) and ``POST /v1/images/edits`` (multipart: ``image[]`` files,
an optional ``mask`` PNG whose *transparent* pixels mark what to change) are
synchronous: the image comes back as ``data[].b64_json`` with ``usage``
(input and output tokens, which is what OpenAI bills). Errors are
``{"error": {message, type, param, code}}``; a moderation refusal is HTTP 400
with code ``moderation_blocked``. The API takes no seed, so a result is
recorded as not reproducible rather than with a seed it never saw.
"""

from __future__ import annotations

import base64
import io
from typing import Any, ClassVar

import numpy as np
from PIL import Image

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
from routeyard.providers.hosted import HostedProvider, Poll, Prepared
from routeyard.providers.mapping import normalise, png_bytes
from routeyard.providers.transfer import Remote, body_of, json_of, retry_after

BASE_URL = "https://api.openai.com"
DEFAULT_QUALITY = "medium"
_EDIT = "/v1/images/edits"


class OpenAIProvider(HostedProvider):
    name = "openai"
    default_base_url = BASE_URL
    default_limits: ClassVar[dict[str, Any]] = {"concurrency": 5, "requests_per_minute": 60}

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.settings.credential('OPENAI_API_KEY') or ''}"}

    def is_synchronous(self, endpoint: str) -> bool:
        return True

    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        model, _ = self.endpoint(task)
        where = f"{task.model} on openai ({endpoint})"
        notes: list[str] = []
        fields: dict[str, Any] = {
            "model": endpoint,
            "prompt": req.prompt or "",
            "n": 1,
            "quality": req.quality or DEFAULT_QUALITY,
            "output_format": "png",
        }
        honoured = {"prompt", "quality", "width", "height", "aspect"}
        size = _size(req.width, req.height, req.aspect, model.limits.side_multiple or 16)
        if size:
            fields["size"] = f"{size[0]}x{size[1]}"
            if req.width and (req.width, req.height) != size:
                notes.append(f"{where} renders {size[0]}x{size[1]} for the asked "
                             f"{req.width}x{req.height}")  # fmt: skip
        warnings = notes + req.unsupported(honoured | {"mask", "box", "polygon", "dilate"}, where)
        if req.op == "generate":
            return Prepared(payload=fields, warnings=warnings, path="/v1/images/generations",
                            seed_sent=False)  # fmt: skip
        if not req.images:
            raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
        most = model.limits.max_reference_images
        if most is not None and len(req.images) > most:
            raise InvalidInputError(
                f"step '{task.node}': {task.model} takes at most {most} images, "
                f"got {len(req.images)}"
            )
        files = [png_bytes(a) for a in req.images]
        payload: dict[str, Any] = {
            "fields": fields,
            # kept as digests-friendly text: the multipart body is built at submit
            "images": [base64.b64encode(data).decode() for data, _ in files],
            "mimes": [mime for _, mime in files],
        }
        if req.mask_png:
            payload["mask"] = base64.b64encode(_alpha_mask(req.mask_png)).decode()
        return Prepared(payload=payload, warnings=warnings, path=_EDIT, seed_sent=False)

    async def submit(self, endpoint: str, prepared: Prepared) -> Poll:
        p = prepared.payload
        if prepared.path == _EDIT:
            files = [
                ("image[]", (f"image-{i}.{m.split('/')[1]}", base64.b64decode(d), m))
                for i, (d, m) in enumerate(zip(p["images"], p["mimes"], strict=True))
            ]
            if p.get("mask"):
                files.append(("mask", ("mask.png", base64.b64decode(p["mask"]), "image/png")))
            data = {k: str(v) for k, v in p["fields"].items()}
            r = await self.http.call(
                "POST", _EDIT, data=data, files=files, timeout_s=300, submit=True
            )
        else:
            r = await self.http.call("POST", prepared.path, json=p, timeout_s=300, submit=True)
        if r.status_code >= 300:
            raise self._error(r)
        answer = json_of(self.name, r)
        if not isinstance(answer, dict):
            raise TransientError("openai: answer is not a JSON object")
        return self._image(answer)

    def _image(self, data: dict[str, Any]) -> Poll:
        files = []
        for item in data.get("data") or []:
            if item.get("b64_json"):
                files.append(Remote(data=base64.b64decode(item["b64_json"]), mime="image/png"))
            elif item.get("url"):
                files.append(Remote(url=item["url"]))
        if not files:
            return Poll("failed", error=PermanentError("openai: the answer holds no image"))
        usage = data.get("usage") or {}
        facts: dict[str, Any] = {"usage": usage}
        if isinstance(usage.get("output_tokens"), int):
            facts["billed_tokens"] = usage["output_tokens"]
        return Poll("succeeded", files=files, facts=facts)

    async def check(self) -> str:
        r = await self.http.call("GET", "/v1/models")
        if r.status_code >= 300:
            raise self._error(r)
        json_of(self.name, r)
        return "key accepted (model list read; nothing spent)"

    def _error(self, r) -> ProviderError:
        body = body_of(r)
        err = body.get("error") if isinstance(body, dict) else None
        err = err if isinstance(err, dict) else {}
        code = str(err.get("code") or "")
        text = f"openai: HTTP {r.status_code} {code}: {err.get('message') or r.text[:120]}"
        if code in ("moderation_blocked", "content_policy_violation"):
            return PolicyRejectedError(text)
        if r.status_code in (401, 403):
            return AuthError(text)
        if r.status_code == 429:
            if code == "insufficient_quota":
                return PermanentError(f"{text} (account quota)")
            return RateLimitedError(text, retry_after=retry_after(r.headers, body))
        if r.status_code >= 500 or r.status_code == 408:
            return TransientError(text)
        if r.status_code in (400, 404, 422):
            return InvalidInputError(text)
        return PermanentError(text)


def _size(
    width: int | None, height: int | None, aspect: str | None, step: int
) -> tuple[int, int] | None:
    """Sides in multiples of ``step`` (16), the long edge at most 3840 px."""
    if not (width and height):
        if not aspect:
            return None
        aw, ah = (int(x) for x in aspect.split(":"))
        width, height = (1024, round(1024 * ah / aw)) if aw >= ah else (round(1024 * aw / ah), 1024)
    scale = min(1.0, 3840 / max(width, height))
    return (
        max(step, round(width * scale / step) * step),
        max(step, round(height * scale / step) * step),
    )


def _alpha_mask(mask_png: bytes) -> bytes:
    """routeyard's white-on-black region as OpenAI's mask: transparent where to edit."""
    with Image.open(io.BytesIO(mask_png)) as im:
        region = np.asarray(im.convert("L")) > 127
    rgba = np.zeros((*region.shape, 4), np.uint8)
    rgba[..., 3] = np.where(region, 0, 255)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return out.getvalue()


__all__ = ["OpenAIProvider"]
