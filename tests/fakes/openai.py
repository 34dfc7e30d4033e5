"""A fake OpenAI image API (GPT Image 2): generations and multipart edits.

``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits``
(multipart ``image[]`` + optional ``mask``, transparent where to edit) answer
at once with ``data[].b64_json`` and ``usage`` tokens; ``GET /v1/models``
lists. Auth ``Authorization: Bearer``; errors ``{"error": {message, type,
param, code}}``, a moderation refusal is 400 ``moderation_blocked``. The
real API takes no seed, and this fake refuses one (400 unknown_parameter).
"""

from __future__ import annotations

import base64
import io
from email.parser import BytesParser
from email.policy import HTTP

import numpy as np
from PIL import Image

from tests.fakes.server import FakeServer, Req, Resp

_FIELDS = {"model", "prompt", "n", "size", "quality", "output_format", "background"}


def output_tokens(width: int, height: int, quality: str) -> int:
    """A token count that grows with the area and the quality, as OpenAI's does."""
    per = {"low": 0.25, "medium": 1.0, "high": 4.0}.get(quality, 1.0)
    return round(width * height / 1024 * per)


class FakeOpenAI(FakeServer):
    name = "openai"

    def __init__(self, key: str = "sk-test-key-0000000000", **kw) -> None:
        super().__init__(**kw)
        self.key = key
        self.masks: list[np.ndarray] = []  # each edit's mask alpha, as received
        self.last_tokens: int | None = None
        self.route("GET", r"/v1/models", self._models)
        self.route("POST", r"/v1/images/generations", self._generate)
        self.route("POST", r"/v1/images/edits", self._edit)

    def error_body(self, status: int, message: str):
        kind = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(
            status, "server_error"
        )
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def policy_response(self) -> Resp:
        return Resp(400, {"error": {"message": "Your request was rejected by the safety system.",
                                    "type": "image_generation_user_error", "param": None,
                                    "code": "moderation_blocked"}})  # fmt: skip

    def check_auth(self, req: Req) -> Resp | None:
        return self.auth_failed(req, "authorization", f"Bearer {self.key}")

    def _models(self, req: Req) -> Resp:
        return self.gate(req) or Resp(200, {"object": "list", "data": [{"id": "gpt-image-2"}]})

    def _bad(self, fields: dict) -> Resp | None:
        unknown = set(fields) - _FIELDS
        if unknown:
            name = sorted(unknown)[0]
            return Resp(400, {"error": {"message": f"Unknown parameter: '{name}'.",
                                        "type": "invalid_request_error", "param": name,
                                        "code": "unknown_parameter"}})  # fmt: skip
        return None

    def _generate(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        fields = req.json()
        if bad := self._bad(fields):
            return bad
        job = self.new_job(fields["model"], fields)
        if job.outcome == "policy":
            return self.policy_response()
        w, h = (int(x) for x in fields.get("size", "1024x1024").split("x"))
        data, _ = self.render("generate", prompt=fields.get("prompt", ""), width=w, height=h)
        return self._answer(data, w, h, fields.get("quality", "auto"))

    def _edit(self, req: Req) -> Resp:
        if refused := self.gate(req, "submit"):
            return refused
        parts = _multipart(req)
        fields = {k: v.decode() for k, v in parts.items() if k not in ("image[]", "mask")}
        if bad := self._bad(fields):
            return bad
        images = parts.get("image[]") or []
        if not images:
            return Resp(400, {"error": {"message": "image is required", "code": None,
                                        "type": "invalid_request_error", "param": "image"}})  # fmt: skip
        job = self.new_job(fields["model"], {**fields, "images": len(images)})
        if job.outcome == "policy":
            return self.policy_response()
        source = base64.b64encode(images[0]).decode()
        if "mask" in parts:
            with Image.open(io.BytesIO(parts["mask"])) as im:
                alpha = np.asarray(im.convert("RGBA"))[..., 3]
            self.masks.append(alpha)
            white = Image.fromarray(np.where(alpha == 0, 255, 0).astype(np.uint8), "L")
            buf = io.BytesIO()
            white.save(buf, "PNG")
            data, _ = self.render("inpaint", image=source,
                                  mask=base64.b64encode(buf.getvalue()).decode())  # fmt: skip
        else:
            data, _ = self.render("edit", prompt=fields.get("prompt", ""), image=source)
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
        return self._answer(data, w, h, fields.get("quality", "auto"))

    def _answer(self, data: bytes, w: int, h: int, quality: str) -> Resp:
        tokens = output_tokens(w, h, quality)
        self.last_tokens = tokens
        return Resp(200, {
            "created": 1764547200,
            "data": [{"b64_json": base64.b64encode(data).decode()}],
            "usage": {"input_tokens": 50, "output_tokens": tokens, "total_tokens": 50 + tokens,
                      "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}},
        })  # fmt: skip


def _multipart(req: Req) -> dict:
    """A multipart/form-data body: text fields as bytes, ``image[]`` as a list."""
    head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + req.body)
    out: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "image[]":
            out.setdefault(name, []).append(payload)
        else:
            out[name] = payload
    return out
