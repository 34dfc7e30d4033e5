"""Replicate through its predictions API (PROVIDERS.md §2).

``POST /v1/models/{owner}/{name}/predictions`` creates a prediction (201,
with ``id`` and ``urls.get``); ``GET urls.get`` until ``succeeded``,
``failed``, ``canceled`` or ``aborted``; ``POST urls.cancel`` cancels.
``Prefer: wait=N`` (off by default, ``prefer_wait_s`` in the config) lets a
fast model answer inside the create call; the id is still recorded before
anything else happens. Inputs go up through ``POST /v1/files`` and are
passed as their ``urls.get``. Outputs are one URL or a list of URLs, kept
for an hour, so they are downloaded at once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from routeyard.providers.base import (
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    ProviderError,
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
    request_digest,
)
from routeyard.providers.mapping import Request, nearest_aspect, normalise
from routeyard.providers.transfer import JobLostError, Remote, body_of, json_of, status_error

BASE_URL = "https://api.replicate.com"
_ASPECTS = ["21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21"]
_POLICY = re.compile(r"nsfw|sensitive|safety|content polic|flagged|moderat", re.I)
_PROGRESS = re.compile(r"(\d{1,3})%\|")


class ReplicateProvider(HostedProvider):
    name = "replicate"
    default_base_url = BASE_URL
    default_limits: ClassVar[dict[str, Any]] = {
        "concurrency": 10,
        "requests_per_minute": 600,
    }  # create: 600/min

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.settings.credential('REPLICATE_API_TOKEN')}"}

    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        where = f"{task.model} on replicate ({endpoint})"
        notes: list[str] = []
        built = await self.from_schema(task, req, where, notes)
        if built is not None:
            body, honoured = built
        else:
            body, honoured = await self._input(endpoint, req, task)
        warnings = notes + req.unsupported(honoured, where)
        return Prepared(payload={"input": body}, warnings=warnings)

    async def _input(self, endpoint: str, req: Request, task: Task) -> tuple[dict[str, Any], set]:
        images = [await self.upload(a) for a in req.images]
        first = images[0] if images else None
        name = endpoint.split("/", 1)[1]
        aspect = nearest_aspect(req.aspect, _ASPECTS, "1:1")
        video = name.startswith(("kling", "veo", "seedance"))
        if (video or "kontext" in name or "fill" in name) and not first:
            raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
        if name in ("flux-schnell", "flux-dev"):
            return {
                "prompt": req.prompt,
                "aspect_ratio": aspect,
                "num_outputs": 1,
                "seed": req.seed,
                "output_format": "png",
            }, {"prompt", "aspect"}
        if name == "flux-1.1-pro":
            body = {"prompt": req.prompt, "seed": req.seed, "output_format": "png"}
            if req.width and req.height and all(256 <= s <= 1440 for s in (req.width, req.height)):
                body.update(
                    aspect_ratio="custom", width=_round32(req.width), height=_round32(req.height)
                )
            else:
                body["aspect_ratio"] = aspect
            return body, {"prompt", "aspect", "width", "height"}
        if "ultra" in name:
            return {"prompt": req.prompt, "aspect_ratio": aspect, "seed": req.seed}, {
                "prompt",
                "aspect",
            }
        if "kontext" in name:
            body = {"prompt": req.prompt, "input_image": first, "seed": req.seed}
            return {**body, "aspect_ratio": "match_input_image", "output_format": "png"}, {"prompt"}
        if "fill" in name:
            mask = await self.upload_bytes(req.mask_png or b"", "image/png", "mask.png")
            body = {"prompt": req.prompt or "", "image": first, "mask": mask, "seed": req.seed}
            return {**body, "output_format": "png"}, {"mask", "box", "polygon", "dilate"}
        if name == "nano-banana":
            body = {"prompt": req.prompt, "output_format": "png", "image_input": images}
            if req.aspect and not images:
                body["aspect_ratio"] = aspect
            return body, {"prompt", "aspect"}
        if name == "seedream-4":
            body = {
                "prompt": req.prompt,
                "max_images": 1,
                "sequential_image_generation": "disabled",
            }
            if images:
                body["image_input"] = images
            if req.width and req.height:
                body.update(size="custom", width=req.width, height=req.height)
            else:
                body["size"] = "2K"
            return body, {"prompt", "width", "height"}
        seconds = req.seconds or 5.0
        if name.startswith("kling"):
            body = {
                "prompt": req.prompt_with_camera(),
                "start_image": first,
                "mode": "pro" if task.model.endswith(("pro", "master")) else "standard",
                "duration": 10 if seconds > 5 else 5,
            }
            if req.negative_prompt:
                body["negative_prompt"] = req.negative_prompt
            return body, {"prompt", "seconds", "camera", "negative_prompt"}
        if name.startswith("veo"):
            body = {
                "prompt": req.prompt_with_camera(),
                "image": first,
                "resolution": "720p",
                "aspect_ratio": nearest_aspect(req.aspect, ["16:9", "9:16"], "16:9"),
                "seed": req.seed,
            }
            if req.negative_prompt:
                body["negative_prompt"] = req.negative_prompt
            return body, {"prompt", "camera", "negative_prompt"}
        if name.startswith("seedance"):
            return {
                "prompt": req.prompt_with_camera(),
                "image": first,
                "duration": min(12, max(2, round(seconds))),
                "resolution": "720p",
                "aspect_ratio": nearest_aspect(
                    req.aspect, ["16:9", "4:3", "1:1", "3:4", "9:16"], "16:9"
                ),
                "fps": 24,
                "camera_fixed": req.camera == "static",
                "seed": req.seed,
            }, {"prompt", "seconds", "camera"}
        raise InvalidInputError(f"replicate: no request mapping for '{endpoint}'")

    async def upload_bytes(self, data: bytes, mime: str, name: str) -> str:
        r = await self.http.call("POST", "/v1/files", files={"content": (name, data, mime)})
        if r.status_code >= 300:
            raise self._error(r)
        return json_of(self.name, r)["urls"]["get"]

    async def submit(self, endpoint: str, prepared: Prepared) -> Job:
        headers = {}
        wait = self.settings.prefer_wait_s
        if wait:
            headers["prefer"] = f"wait={min(60, max(1, int(wait)))}"
        r = await self.http.call(
            "POST",
            f"/v1/models/{endpoint}/predictions",
            json=prepared.payload,
            headers=headers,
            timeout_s=(wait + 5) if wait else None,
            submit=True,
        )
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        if not isinstance(data, dict) or "id" not in data:
            raise TransientError("replicate: create answer without a prediction id")
        urls = data.get("urls") or {}
        job = Job(data["id"], {"get": urls.get("get"), "cancel": urls.get("cancel")})
        job.first = self._parse(data)
        return job

    async def reconcile(self, endpoint: str, meta: dict[str, Any]) -> Job | object | None:
        """Replicate takes no client reference, but lists recent predictions with
        their input: the one for this model, with this very input, created since
        the request left, is ours; none there means it was never created."""
        r = await self.http.call("GET", "/v1/predictions")
        if r.status_code >= 300:
            raise self._error(r)
        listing = json_of(self.name, r)
        since = float(meta.get("since") or 0) - CLOCK_SKEW_S
        ours = [
            p
            for p in (listing.get("results") or [] if isinstance(listing, dict) else [])
            if p.get("model") == endpoint
            and request_digest({"input": p.get("input")}) == meta.get("request")
            and _unix(p.get("created_at")) >= since
        ]
        if not ours:
            return NOT_ACCEPTED
        if len(ours) > 1:
            return None  # the same request twice since: which one is ours is unknowable
        urls = ours[0].get("urls") or {}
        return Job(ours[0]["id"], {"get": urls.get("get"), "cancel": urls.get("cancel")})

    async def poll(self, job: Job) -> Poll:
        r = await self.http.call("GET", job.meta.get("get") or f"/v1/predictions/{job.id}")
        if r.status_code == 404:
            raise JobLostError(f"replicate: prediction {job.id} not found")
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        if not isinstance(data, dict):
            raise TransientError("replicate: prediction is not a JSON object")
        return self._parse(data)

    def _parse(self, data: dict[str, Any]) -> Poll:
        status = data.get("status")
        logs = data.get("logs") or ""
        found = _PROGRESS.findall(logs)
        progress = int(found[-1]) / 100 if found else None
        if status == "starting":
            return Poll("queued")
        if status == "processing":
            return Poll("running", progress=progress)
        if status == "succeeded":
            output = data.get("output")
            urls = output if isinstance(output, list) else [output]
            files = [Remote(url=u) for u in urls if isinstance(u, str)]
            return Poll("succeeded", files=files, facts={"metrics": data.get("metrics") or {}})
        if status == "failed":
            message = str(data.get("error") or "failed")
            if _POLICY.search(message):
                return Poll("failed", error=PolicyRejectedError(f"replicate: {message}"))
            return Poll("failed", error=PermanentError(f"replicate: prediction failed: {message}"))
        if status in ("canceled", "aborted"):
            return Poll("cancelled", error=PermanentError(f"replicate: prediction {status}"))
        raise TransientError(f"replicate: unknown status {status!r}")

    async def cancel(self, job: Job) -> None:
        await self.http.call("POST", job.meta.get("cancel") or f"/v1/predictions/{job.id}/cancel")

    async def check(self) -> str:
        r = await self.http.call("GET", "/v1/account")
        if r.status_code >= 300:
            raise self._error(r)
        account = json_of(self.name, r)
        return f"key accepted (account {account.get('username', '?')}; nothing spent)"

    def _error(self, r) -> ProviderError:
        body = body_of(r)
        message = (
            str(body.get("detail") or body.get("title") or "")
            if isinstance(body, dict)
            else r.text[:120]
        )
        if r.status_code in (400, 422) and _POLICY.search(message):
            return PolicyRejectedError(f"replicate: {message}")
        return status_error(self.name, r, message)


def _round32(side: int) -> int:
    return max(256, min(1440, round(side / 32) * 32))


def _unix(stamp: Any) -> float:
    """An ISO-8601 time (``2026-12-01T10:00:00.123Z``) as unix seconds; 0 if unreadable."""
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
