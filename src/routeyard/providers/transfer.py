"""HTTP for hosted adapters: calls with error kinds, uploads, verified downloads.

Every request goes through ``Http.call``: it waits for the provider's
request budget, turns transport failures into ``TransientError`` (a dropped
connection says nothing about the job), and leaves the status code to the
adapter, which knows its provider's error bodies. ``status_error`` is the
shared part of that mapping.

Downloads stream to a file while hashing, retry a URL that is not ready yet
(a CDN 404 right after completion is normal), check the length against the
headers and what the provider said, and only ever send the API key to the
provider's own host, never to a CDN or a redirect elsewhere.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from routeyard.providers.base import (
    AnswerLostError,
    AuthError,
    InvalidInputError,
    PermanentError,
    ProviderError,
    RateLimitedError,
    TransientError,
)
from routeyard.providers.limits import ProviderLimits

_CHUNK = 1 << 20
MAX_REDIRECTS = 5
# Failures before a byte of the request left: nothing can have been created.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
USER_AGENT = "routeyard/0.1"


class JobLostError(TransientError):
    """The provider no longer knows the job (expired, wrong region, never created)."""

    kind = "transient"


@dataclass
class Remote:
    """One result file as the provider hands it over: a URL or inline bytes."""

    url: str | None = None
    data: bytes | None = None
    mime: str | None = None
    size: int | None = None  # bytes, when the provider says
    authenticated: bool = False  # the download needs the API key (Veo files)


def retry_after(headers: httpx.Headers, body: Any = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date), or a body hint."""
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            when = email.utils.parsedate_to_datetime(raw)
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    if isinstance(body, dict):
        if isinstance(body.get("retry_after"), int | float):
            return float(body["retry_after"])
        for detail in (body.get("error") or {}).get("details") or []:  # google.rpc.RetryInfo
            delay = isinstance(detail, dict) and detail.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return float(delay[:-1])
                except ValueError:
                    pass
    return None


def status_error(provider: str, response: httpx.Response, message: str) -> ProviderError:
    """The error kind an HTTP status means, for statuses the adapter did not special-case."""
    code = response.status_code
    text = f"{provider}: HTTP {code}: {message}"
    if code == 429:
        return RateLimitedError(text, retry_after=retry_after(response.headers, body_of(response)))
    if code in (401, 403):
        return AuthError(text)
    if code == 402:
        return PermanentError(f"{text} (out of credits)")
    if code in (408, 409, 425) or code >= 500:
        return TransientError(text, retry_after=retry_after(response.headers))
    if code in (400, 404, 413, 415, 422):
        return InvalidInputError(text)
    return PermanentError(text)


def body_of(response: httpx.Response) -> Any:
    """The JSON body, or None when there is none (an HTML error page from a proxy)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def json_of(provider: str, response: httpx.Response) -> Any:
    """The JSON body of a successful answer; a garbled one is a transient fault."""
    body = body_of(response)
    if body is None:
        raise TransientError(
            f"{provider}: HTTP {response.status_code} with a body that is not JSON "
            f"({response.text[:60]!r})"
        )
    return body


def strip_query(url: str) -> str:
    """A result URL without its signature: kept as metadata, never as a credential."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_DATA_URI = re.compile(r"^data:([\w/+.-]+)?(;base64)?,(.*)$", re.S)


def decode_data_uri(uri: str) -> tuple[bytes, str | None]:
    m = _DATA_URI.match(uri)
    if not m:
        raise PermanentError("result is a malformed data: URI")
    payload = m.group(3)
    data = base64.b64decode(payload) if m.group(2) else payload.encode()
    return data, m.group(1)


class Http:
    """One provider's HTTP client: its auth headers, its request budget, its error kinds."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        limits: ProviderLimits,
        auth: Callable[[], dict[str, str]],
        *,
        timeout_s: float = 60.0,
    ) -> None:
        self.provider = provider
        self.base_url = base_url
        self.limits = limits
        self._auth = auth
        self._timeout = httpx.Timeout(timeout_s, connect=10.0)
        self._clients: dict[int, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        # httpx pools belong to the loop that opened them: one client per loop.
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(
                timeout=self._timeout, headers={"user-agent": USER_AGENT}, follow_redirects=False
            )
            self._clients = {loop: client}
        return client

    def own_host(self, url: str) -> bool:
        """Whether ``url`` belongs to the provider: its host, or a host of the same
        domain (BFL answers with regional polling hosts such as api.us1.bfl.ai)."""
        host, base = urlsplit(url).hostname or "", urlsplit(self.base_url).hostname or ""
        if host == base:
            return True
        domain = ".".join(base.split(".")[-2:])
        return (
            "." in domain and not domain.replace(".", "").isdigit() and host.endswith("." + domain)
        )

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        authenticated: bool = True,
        headers: dict[str, str] | None = None,
        timeout_s: float | None = None,
        submit: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request. ``submit``: it creates a paid job, so an answer lost after
        sending is ``AnswerLostError`` (never retried), not ``TransientError``."""
        url = self.url(path)
        await self.limits.request()
        sent = dict(headers or {})
        if authenticated:
            if not self.own_host(url):
                raise PermanentError(
                    f"{self.provider}: refusing to send credentials to {urlsplit(url).netloc}"
                )
            sent.update(self._auth())
        where = f"{self.provider}: {method} {strip_query(url)}"
        try:
            response = await self._client().request(
                method,
                url,
                headers=sent,
                timeout=httpx.Timeout(timeout_s, connect=10.0) if timeout_s else self._timeout,
                **kwargs,
            )
        except _NOT_SENT as exc:  # the request never left: trying again is safe
            raise TransientError(f"{where} failed before sending: {type(exc).__name__}") from None
        except httpx.TimeoutException:
            if submit:
                raise AnswerLostError(f"{where}: no answer in time after sending") from None
            raise TransientError(f"{where} timed out") from None
        except httpx.TransportError as exc:
            if submit:
                raise AnswerLostError(
                    f"{where}: the connection dropped after sending ({type(exc).__name__})"
                ) from None
            raise TransientError(f"{where} failed: {type(exc).__name__}") from None
        if (
            submit
            and body_of(response) is None
            and (response.is_success or response.status_code >= 500)
        ):
            # Not the provider's own answer (an HTML page from a proxy or a load
            # balancer): whether the job was created is unknown.
            raise AnswerLostError(
                f"{where}: HTTP {response.status_code} answered by something other than "
                f"{self.provider} ({response.text[:40]!r})"
            )
        return response

    async def download(
        self,
        remote: Remote,
        folder: Path,
        *,
        timeout_s: float,
        auth_ok: bool = False,
        max_bytes: int | None = None,
    ) -> tuple[Path, str, str | None]:
        """Fetch one result into ``folder``; returns (path, sha256, mime).

        A 404, 403, 5xx or dropped connection is retried until ``timeout_s``:
        result URLs often answer before the file has reached the CDN. That is
        one deadline for everything (every try, every redirect, every byte);
        at most ``MAX_REDIRECTS`` redirects are followed; the body stops at the
        size the provider announced, or at ``max_bytes``.
        """
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"download-{uuid.uuid4().hex[:12]}"
        if remote.data is not None:
            target.write_bytes(remote.data)
            return target, hashlib.sha256(remote.data).hexdigest(), remote.mime
        if remote.url is None:
            raise PermanentError(f"{self.provider}: a result has neither a URL nor data")
        if remote.url.startswith("data:"):
            data, mime = decode_data_uri(remote.url)
            target.write_bytes(data)
            return target, hashlib.sha256(data).hexdigest(), mime or remote.mime
        cap = remote.size if remote.size is not None else max_bytes
        deadline = time.monotonic() + timeout_s
        delay, last, redirects = 0.5, "", 0
        url = remote.url
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                async with asyncio.timeout(left):
                    return await self._fetch(url, remote, target, auth_ok, cap)
            except TimeoutError:
                last = "the download deadline passed"
                break
            except _NotReady as exc:
                last = str(exc)
                if exc.location:  # a redirect: follow it, without the key if it leaves the host
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise PermanentError(
                            f"{self.provider}: result {strip_query(remote.url)} redirects more "
                            f"than {MAX_REDIRECTS} times"
                        ) from None
                    url = urljoin(url, exc.location)
                    continue
            if time.monotonic() + delay > deadline:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 1.6, 8.0)
        target.unlink(missing_ok=True)
        raise TransientError(
            f"{self.provider}: result {strip_query(remote.url)} not downloadable after "
            f"{timeout_s:.0f} s ({last})"
        )

    async def _fetch(
        self, url: str, remote: Remote, target: Path, auth_ok: bool, cap: int | None
    ) -> tuple[Path, str, str | None]:
        headers = self._auth() if (remote.authenticated or auth_ok) and self.own_host(url) else {}
        await self.limits.request()
        h = hashlib.sha256()
        written = 0
        where = f"{self.provider}: result {strip_query(url)}"
        try:
            async with self._client().stream("GET", url, headers=headers) as r:
                if r.status_code in (301, 302, 303, 307, 308):
                    raise _NotReady(f"HTTP {r.status_code}", location=r.headers.get("location"))
                if r.status_code in (403, 404, 408, 425, 429) or r.status_code >= 500:
                    raise _NotReady(f"HTTP {r.status_code}")
                if r.status_code >= 400:
                    raise PermanentError(f"{where}: HTTP {r.status_code}")
                expected = r.headers.get("content-length")
                if cap is not None and expected is not None and int(expected) > cap:
                    raise _oversize(where, int(expected), cap)
                with target.open("wb") as f:
                    async for chunk in r.aiter_bytes(_CHUNK):
                        written += len(chunk)
                        if cap is not None and written > cap:
                            raise _oversize(where, written, cap)
                        h.update(chunk)
                        f.write(chunk)
                mime = (r.headers.get("content-type") or "").split(";")[0] or remote.mime
        except httpx.TransportError as exc:
            raise _NotReady(type(exc).__name__) from None
        if expected is not None and int(expected) != written:
            raise _NotReady(f"truncated: {written} of {expected} bytes")
        if remote.size is not None and remote.size != written:
            raise _NotReady(f"size {written} bytes, the provider said {remote.size}")
        return target, h.hexdigest(), mime


def _oversize(where: str, size: int, cap: int) -> PermanentError:
    """A body larger than announced (or than the model can make): the same URL
    would send it again, so this is not retried, and nothing more is read."""
    return PermanentError(
        f"{where} is over {cap} bytes ({size} seen): larger than the provider announced "
        "or the model can make; not downloaded"
    )


class _NotReady(Exception):
    def __init__(self, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location
