"""Redaction of short configured keys and of tokens derived from keys (a JWT)."""

from __future__ import annotations

import re

import jwt

from routeyard import api
from routeyard.secrets import REDACTED, redact, secret_values
from tests.fakes.server import Req, Resp


def test_a_short_configured_key_is_masked_as_a_word_not_inside_words():
    secrets = secret_values({"FAL_KEY": "k3y9", "DEBUG_TOKEN": "1"}, names=["FAL_KEY"])
    assert "k3y9" in secrets and "1" not in secrets  # only configured keys, any length
    said = redact("401: invalid key 'k3y9' (k3y9x is fine); attempt 1", secrets)
    assert said == f"401: invalid key '{REDACTED}' (k3y9x is fine); attempt 1"


def test_a_jwt_and_a_bearer_credential_are_masked_whatever_signed_them():
    token = jwt.encode({"iss": "ak", "exp": 2_000_000_000}, "s" * 32, algorithm="HS256")
    echoed = {"message": f"token {token} expired", "headers": "Authorization: Bearer abcdefgh123"}
    out = redact(echoed)
    assert token not in str(out) and "abcdefgh123" not in str(out)
    assert out["message"] == f"token {REDACTED} expired"


def test_a_provider_echoing_a_short_key_and_its_jwt_leaves_neither_in_the_store(
    fakes, home, write, monkeypatch
):
    fake = fakes("kling")
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak7")  # short, but configured: masked
    fake.access = "ak7"
    sent: list[str] = []

    def echo(req: Req) -> Resp:  # the provider quotes the credential it was given
        sent.append(req.headers["authorization"].removeprefix("Bearer "))
        message = f"bad image for ak7, token {sent[-1]}"
        return Resp(400, {"code": 1201, "message": message, "request_id": "r"})

    fake.routes.insert(0, ("POST", re.compile("^/v1/videos/image2video$"), echo))
    path = write(
        "steps:\n  base: {op: import, source: 'sample:coffee'}\n"
        "  motion: {op: animate, input: base, model: kling-2.5-turbo-pro, seconds: 5}\n"
    )
    run = api.run_pipeline(path)
    assert run["status"] == "failed" and sent
    blob = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert sent[-1].encode() not in blob
    assert b"bad image for ak7" not in blob and b"bad image for ***" in blob
