"""fal.ai through its queue API (PROVIDERS.md §1).

Submit ``POST {queue}/{endpoint id}``; poll ``status_url`` (IN_QUEUE →
IN_PROGRESS → COMPLETED, where COMPLETED may carry an ``error``); fetch the
output from ``response_url``; cancel with ``PUT cancel_url``. Status, result
and cancel use only ``owner/app`` of the id, which is why the submit's own
URLs are kept in the ledger rather than rebuilt. Inputs are uploaded to
fal's CDN (storage token, then the upload host the token names), so large
images never travel inside a JSON body.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routeyard import config
from routeyard.providers.base import (
    InvalidInputError,
    PermanentError,
    PolicyRejectedError,
    ProviderError,
    Task,
    TransientError,
)
from routeyard.providers.hosted import HostedProvider, Job, Poll, Prepared
from routeyard.providers.mapping import Request, nearest_aspect, normalise
from routeyard.providers.transfer import JobLostError, Remote, body_of, json_of, status_error

QUEUE_URL = "https://queue.fal.run"
REST_URL = "https://rest.fal.ai"
_ULTRA_ASPECTS = ["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"]
_BANANA_ASPECTS = ["21:9", "16:9", "4:3", "3:2", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16"]


def family(endpoint: str) -> str:
    """Which request schema an endpoint id takes."""
    for needle, name in (
        ("kling-video", "kling"),
        ("veo3", "veo"),
        ("seedance", "seedance"),
        ("seedream", "seedream"),
        ("nano-banana", "nano_banana"),
        ("/fill", "fill"),
        ("kontext", "kontext"),
        ("ultra", "ultra"),
        ("birefnet", "matte"),
        ("rembg", "matte"),
        ("upscal", "upscale"),
    ):
        if needle in endpoint:
            return name
    return "flux"


class FalProvider(HostedProvider):
    name = "fal"
    default_base_url = QUEUE_URL
    default_limits: ClassVar[dict[str, Any]] = {"concurrency": 10, "requests_per_minute": 600}

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Key {self.settings.credential('FAL_KEY') or self._pair()}"}

    def _pair(self) -> str:
        key_id = self.settings.credential("FAL_KEY_ID")
        secret = self.settings.credential("FAL_KEY_SECRET")
        return f"{key_id}:{secret}" if key_id and secret else ""

    @property
    def rest_url(self) -> str:
        explicit = config.env("ROUTEYARD_FAL_REST_URL")
        if explicit:
            return explicit.rstrip("/")
        return REST_URL if self.settings.base_url == QUEUE_URL else self.settings.base_url

    # ----------------------------------------------------------- request
    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        req = normalise(task)
        where = f"{task.model} on fal ({endpoint})"
        notes: list[str] = []
        built = await self.from_schema(task, req, where, notes)
        if built is not None:
            body, honoured = built
        else:
            body, honoured = await self._body(family(endpoint), req, task, notes, where)
        return Prepared(payload=body, warnings=notes + req.unsupported(honoured, where))

    async def _body(
        self, kind: str, req: Request, task: Task, notes: list[str], where: str
    ) -> tuple[dict[str, Any], set[str]]:
        images = [await self.upload(a) for a in req.images]
        first = images[0] if images else None
        if (
            kind in ("kling", "veo", "seedance", "kontext", "fill", "matte", "upscale")
            and not first
        ):
            raise InvalidInputError(f"step '{task.node}': {task.model} needs an input image")
        if kind == "flux":
            size = {"width": req.width, "height": req.height} if req.width else "landscape_4_3"
            if not req.width and req.aspect:
                size = _preset(req.aspect)
            body = {"prompt": req.prompt, "image_size": size, "seed": req.seed, "num_images": 1}
            return {**body, "output_format": "png", "enable_safety_checker": True}, {
                "prompt",
                "width",
                "height",
                "aspect",
            }
        if kind == "ultra":
            aspect = nearest_aspect(req.aspect, _ULTRA_ASPECTS, "16:9")
            body = {"prompt": req.prompt, "aspect_ratio": aspect, "seed": req.seed}
            return {**body, "output_format": "png", "num_images": 1}, {"prompt", "aspect"}
        if kind == "kontext":
            body = {"prompt": req.prompt, "seed": req.seed, "output_format": "png"}
            if req.op == "edit":
                body["image_url"] = first
            elif req.aspect:
                body["aspect_ratio"] = nearest_aspect(req.aspect, _ULTRA_ASPECTS, "1:1")
            return body, {"prompt", "aspect"}
        if kind == "nano_banana":
            body = {"prompt": req.prompt, "num_images": 1, "output_format": "png"}
            if images:
                body["image_urls"] = images
            if req.aspect:
                body["aspect_ratio"] = nearest_aspect(req.aspect, _BANANA_ASPECTS, "1:1")
            return body, {"prompt", "aspect"}
        if kind == "seedream":
            body = {"prompt": req.prompt, "seed": req.seed, "num_images": 1}
            if req.width and req.height:
                body["image_size"] = {"width": req.width, "height": req.height}
            if images:
                body["image_urls"] = images
            return body, {"prompt", "width", "height"}
        if kind == "fill":
            mask = await self.upload_bytes(req.mask_png or b"", "image/png", "mask.png")
            body = {"prompt": req.prompt or "", "image_url": first, "mask_url": mask}
            return {**body, "seed": req.seed, "output_format": "png"}, {
                "mask",
                "box",
                "polygon",
                "dilate",
            }
        if kind == "matte":
            return {"image_url": first, "output_format": "png"}, set()
        if kind == "upscale":
            return {"image_url": first, "upscale_factor": req.scale or 2}, {"scale"}
        seconds = req.seconds or 5.0
        if kind == "kling":
            body = {
                "prompt": req.prompt_with_camera(),
                "image_url": first,
                "duration": str(req.duration_tier((5, 10), where, notes)),
            }
            if req.negative_prompt:
                body["negative_prompt"] = req.negative_prompt
            return body, {"prompt", "seconds", "camera", "negative_prompt"}
        if kind == "veo":
            duration = req.duration_tier((4, 6, 8), where, notes)
            body = {
                "prompt": req.prompt_with_camera(),
                "image_url": first,
                "duration": f"{duration}s",
                "aspect_ratio": nearest_aspect(req.aspect, ["16:9", "9:16"], "16:9"),
                "resolution": "720p",
                "generate_audio": False,
            }
            if req.negative_prompt:
                body["negative_prompt"] = req.negative_prompt
            return body, {"prompt", "seconds", "camera", "negative_prompt"}
        # seedance
        body = {
            "prompt": req.prompt_with_camera(),
            "image_url": first,
            "duration": str(min(12, max(3, round(seconds)))),
            "resolution": "720p",
            "aspect_ratio": "auto",
            "camera_fixed": req.camera == "static",
            "seed": req.seed,
        }
        return body, {"prompt", "seconds", "camera"}

    async def _storage_token(self) -> dict[str, Any]:
        """A CDN upload token from fal's REST host; also the cheapest authenticated call."""
        own = self.http.own_host(self.rest_url)
        r = await self.http.call(
            "POST",
            f"{self.rest_url}/storage/auth/token?storage_type=fal-cdn-v3",
            json={},
            authenticated=own,
            headers={} if own else self.auth_headers(),
        )
        if r.status_code >= 300:
            raise self._error(r)
        return json_of(self.name, r)

    async def upload_bytes(self, data: bytes, mime: str, name: str) -> str:
        """fal's CDN upload: a storage token, then the bytes to the host it names."""
        token = await self._storage_token()
        r = await self.http.call(
            "POST",
            f"{token['base_url'].rstrip('/')}/files/upload",
            content=data,
            authenticated=False,
            headers={
                "content-type": mime,
                "x-fal-file-name": name,
                "authorization": f"{token['token_type']} {token['token']}",
            },
        )
        if r.status_code >= 300:
            raise self._error(r)
        return json_of(self.name, r)["access_url"]

    # ------------------------------------------------------------- queue
    async def submit(self, endpoint: str, prepared: Prepared) -> Job:
        r = await self.http.call("POST", f"/{endpoint}", json=prepared.payload, submit=True)
        if r.status_code >= 300:
            raise self._error(r)
        data = json_of(self.name, r)
        try:
            return Job(
                data["request_id"],
                {k: data[k] for k in ("status_url", "response_url", "cancel_url")},
            )
        except (KeyError, TypeError):
            raise TransientError("fal: submit answer without request_id/status_url") from None

    async def poll(self, job: Job) -> Poll:
        r = await self.http.call("GET", job.meta["status_url"], params={"logs": "0"})
        if r.status_code == 404:
            raise JobLostError(f"fal: request {job.id} not found")
        if r.status_code >= 300 and r.status_code != 202:
            raise self._error(r)
        data = json_of(self.name, r)
        status = data.get("status") if isinstance(data, dict) else None
        if status == "IN_QUEUE":
            position = data.get("queue_position")
            return Poll("queued", facts={"queue_position": position})
        if status == "IN_PROGRESS":
            return Poll("running")
        if status != "COMPLETED":
            raise TransientError(f"fal: unknown status {status!r}")
        if data.get("error"):
            return Poll("failed", error=self._completed_error(data))
        r = await self.http.call("GET", job.meta["response_url"])
        if r.status_code >= 300:
            error = self._error(r)
            if isinstance(error, TransientError):
                raise error  # the result endpoint hiccupped: poll again
            return Poll("failed", error=error)
        return self._result(json_of(self.name, r), job)

    def _result(self, output: Any, job: Job) -> Poll:
        if not isinstance(output, dict):
            raise TransientError("fal: result is not a JSON object")
        if any(output.get("has_nsfw_concepts") or []):
            return Poll(
                "failed",
                error=PolicyRejectedError("fal: the safety checker flagged the result (NSFW)"),
            )
        files = output.get("images") or [output[k] for k in ("image", "video") if output.get(k)]
        remotes = [
            Remote(
                url=f.get("url"),
                mime=f.get("content_type"),
                size=f.get("file_size") if isinstance(f.get("file_size"), int) else None,
            )
            for f in files
            if isinstance(f, dict)
        ]
        facts = {k: output[k] for k in ("seed", "timings", "description") if k in output}
        return Poll("succeeded", files=remotes, facts=facts)

    async def cancel(self, job: Job) -> None:
        await self.http.call("PUT", job.meta["cancel_url"])

    async def check(self) -> str:
        await self._storage_token()
        return "key accepted (storage token issued; nothing spent)"

    # ------------------------------------------------------------ errors
    def _error(self, r) -> ProviderError:
        body = body_of(r)
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, list):
            if any(
                isinstance(d, dict) and d.get("type") == "content_policy_violation" for d in detail
            ):
                return PolicyRejectedError(f"fal: content policy: {_messages(detail)}")
            message = _messages(detail)
        else:
            message = str(detail or (body or {}).get("error_type", "") or r.text[:120])
        if r.status_code == 422:
            return InvalidInputError(f"fal: HTTP 422: {message}")
        return status_error(self.name, r, message)

    def _completed_error(self, data: dict[str, Any]) -> ProviderError:
        kind, message = data.get("error_type") or "", str(data.get("error"))
        if "content_policy" in kind:
            return PolicyRejectedError(f"fal: content policy: {message}")
        if kind in ("request_timeout", "startup_timeout", "runner_scheduling_failure"):
            return TransientError(f"fal: {kind}: {message}")
        return PermanentError(f"fal: job failed ({kind or 'error'}): {message}")


def _messages(detail: list[Any]) -> str:
    parts = []
    for d in detail:
        if isinstance(d, dict):
            loc = ".".join(str(x) for x in (d.get("loc") or [])[1:])
            parts.append(f"{loc}: {d.get('msg')}" if loc else str(d.get("msg")))
    return "; ".join(parts) or "validation error"


def _preset(aspect: str) -> str:
    return {
        "1:1": "square_hd",
        "4:3": "landscape_4_3",
        "16:9": "landscape_16_9",
        "3:4": "portrait_4_3",
        "9:16": "portrait_16_9",
    }.get(nearest_aspect(aspect, ["1:1", "4:3", "16:9", "3:4", "9:16"], "4:3"), "landscape_4_3")
