"""Black Forest Labs' own API for Flux (PROVIDERS.md §3).

``POST /v1/{model}`` answers ``{id, polling_url}``; ``GET polling_url``
reports ``Pending`` until ``Ready`` (``result.sample`` is a signed URL that
expires in ten minutes, so it is fetched at once), or ``Error``,
``Request Moderated`` / ``Content Moderated`` (content policy) or
``Task not found``. Images go inline as base64. The key travels in
``x-key``, only to BFL's hosts (polling URLs may name a regional one).
"""

from __future__ import annotations

from typing import Any, ClassVar

from routeyard.providers.base import (
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    ProviderError,
    Task,
    TransientError,
)
from routeyard.providers.hosted import HostedProvider, Job, Poll, Prepared
from routeyard.providers.mapping import nearest_aspect, normalise, png_bytes
from routeyard.providers.transfer import JobLostError, Remote, b64, body_of, json_of, status_error

BASE_URL = "https://api.bfl.ai"
_ASPECTS = ["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"]


class BflProvider(HostedProvider):
    name = "bfl"
    default_base_url = BASE_URL
    default_limits: ClassVar[dict[str, Any]] = {
        "concurrency": 24,
        "requests_per_minute": 600,
    }  # 24 in-flight tasks

    def auth_headers(self) -> dict[str, str]:
        return {"x-key": self.settings.credential("BFL_API_KEY") or ""}

    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        warnings: list[str] = []
        body: dict[str, Any] = {"seed": req.seed, "output_format": "png", "safety_tolerance": 2}
        first = png_bytes(req.images[0])[0] if req.images else None
        if endpoint.startswith("flux-2"):
            body.update(self._flux2(task, req, warnings))
            honoured = {"prompt", "width", "height", "aspect"}
        elif endpoint.endswith("-fill"):
            if first is None:
                raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
            body.update(prompt=req.prompt or "", image=b64(first), mask=b64(req.mask_png or b""))
            honoured = {"mask", "box", "polygon", "dilate"}
        elif "kontext" in endpoint:
            body["prompt"] = req.prompt
            if req.op == "edit":
                if first is None:
                    raise InvalidInputError(f"step '{task.node}': {task.model} needs an image")
                body["input_image"] = b64(first)
            elif req.aspect:
                body["aspect_ratio"] = nearest_aspect(req.aspect, _ASPECTS, "1:1")
            honoured = {"prompt", "aspect"}
        elif "ultra" in endpoint:
            body.update(
                prompt=req.prompt, aspect_ratio=nearest_aspect(req.aspect, _ASPECTS, "16:9")
            )
            honoured = {"prompt", "aspect"}
        else:  # flux-pro-1.1, flux-dev: exact size in multiples of 32, 256..1440
            w, h = req.width or 1024, req.height or 768
            if req.aspect and not req.width:
                aw, ah = (int(x) for x in req.aspect.split(":"))
                w, h = (1024, round(1024 * ah / aw)) if aw >= ah else (round(1024 * aw / ah), 1024)
            sw, sh = _side(w), _side(h)
            if (sw, sh) != (w, h) and req.width:
                warnings.append(f"{task.model} on bfl renders {sw}x{sh} for the asked {w}x{h}")
            body.update(prompt=req.prompt, width=sw, height=sh)
            honoured = {"prompt", "width", "height", "aspect"}
        where = f"{task.model} on bfl ({endpoint})"
        return Prepared(payload=body, warnings=warnings + req.unsupported(honoured, where))

    def _flux2(self, task: Task, req, warnings: list[str]) -> dict[str, Any]:
        """FLUX.2: one endpoint generates and edits. References go as
        ``input_image``, ``input_image_2`` … (8 at most; klein takes 4); the size
        in multiples of 16, at most 4 MP."""
        model, _ = self.endpoint(task)
        most = model.limits.max_reference_images or 8
        if req.op == "edit" and not req.images:
            raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
        if len(req.images) > most:
            raise InvalidInputError(
                f"step '{task.node}': {task.model} takes at most {most} reference images, "
                f"got {len(req.images)}"
            )
        out: dict[str, Any] = {"prompt": req.prompt or ""}
        for i, image in enumerate(req.images):
            out["input_image" if i == 0 else f"input_image_{i + 1}"] = b64(png_bytes(image)[0])
        w, h = req.width, req.height
        if not (w and h) and req.aspect:
            aw, ah = (int(x) for x in req.aspect.split(":"))
            w, h = (1024, round(1024 * ah / aw)) if aw >= ah else (round(1024 * aw / ah), 1024)
        if w and h:
            sw, sh = _side16(w, h)
            if (sw, sh) != (w, h) and req.width:
                warnings.append(f"{task.model} on bfl renders {sw}x{sh} for the asked {w}x{h}")
            out.update(width=sw, height=sh)
        return out

    async def submit(self, endpoint: str, prepared: Prepared) -> Job:
        r = await self.http.call("POST", f"/v1/{endpoint}", json=prepared.payload, submit=True)
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        if not isinstance(data, dict) or "id" not in data:
            raise TransientError("bfl: submit answer without an id")
        meta = {"polling_url": data.get("polling_url")}
        if "cost" in data:
            meta["credits"] = data["cost"]
        return Job(str(data["id"]), meta)

    async def poll(self, job: Job) -> Poll:
        url = job.meta.get("polling_url") or "/v1/get_result"
        r = await self.http.call("GET", url, params=None if "?" in url else {"id": job.id})
        if r.status_code == 202:  # not ready (BFL's own nodes treat it so)
            return Poll("running")
        if r.status_code == 404:
            raise JobLostError(f"bfl: task {job.id} not found")
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        status = data.get("status") if isinstance(data, dict) else None
        progress = data.get("progress") if isinstance(data, dict) else None
        if status == "Pending":
            return Poll("running", progress=progress if isinstance(progress, int | float) else None)
        if status == "Ready":
            sample = (data.get("result") or {}).get("sample")
            facts = {"seed": (data.get("result") or {}).get("seed")}
            return Poll("succeeded", files=[Remote(url=sample)] if sample else [], facts=facts)
        if status in ("Request Moderated", "Content Moderated"):
            return Poll("failed", error=PolicyRejectedError(f"bfl: {status}"))
        if status == "Task not found":
            raise JobLostError(f"bfl: task {job.id} not found")
        if status == "Error":
            detail = data.get("details") or data.get("result") or ""
            return Poll("failed", error=PermanentError(f"bfl: task failed: {detail}"))
        raise TransientError(f"bfl: unknown status {status!r}")

    async def check(self) -> str:
        r = await self.http.call("GET", "/v1/credits")
        if r.status_code >= 300:
            raise self._error(r)
        return f"key accepted ({json_of(self.name, r).get('credits', '?')} credits; nothing spent)"

    def _error(self, r) -> ProviderError:
        body = body_of(r)
        detail = body.get("detail") or body.get("message") if isinstance(body, dict) else None
        if isinstance(detail, list):
            detail = "; ".join(
                f"{'.'.join(str(x) for x in (d.get('loc') or [])[1:])}: {d.get('msg')}"
                for d in detail
                if isinstance(d, dict)
            )
        message = str(detail or r.text[:120])
        if "moderat" in message.lower():
            return PolicyRejectedError(f"bfl: {message}")
        return status_error(self.name, r, message)


def _side16(w: int, h: int) -> tuple[int, int]:
    """Multiples of 16, scaled down to 4 MP at most (FLUX.2's limits)."""
    scale = min(1.0, (4_000_000 / (w * h)) ** 0.5)
    return max(64, int(w * scale) // 16 * 16), max(64, int(h * scale) // 16 * 16)


def _side(v: int) -> int:
    return max(256, min(1440, round(v / 32) * 32))
