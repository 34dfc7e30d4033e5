"""The life of a hosted job, shared by every adapter: nothing lost, nothing paid twice.

An adapter says how to talk to its provider (``prepare`` a request,
``submit`` it, ``poll`` it, ``check`` the key); this class owns the rules
that make hosted work safe to interrupt:

1. Before submitting, look in the job ledger for a job already submitted
   for the same cache key. If one may still be running, or finished without
   its result reaching the store, poll that job: never submit and pay again.
2. Persist the provider's job id the moment the submit answers, before the
   first poll, together with the estimated cost.
3. Poll with capped exponential backoff. A failed poll (timeout, 5xx, 429,
   garbled JSON) is not a failed job; only the provider's own terminal
   status is. Past the model's time limit the job stays in the ledger and
   the error is transient, so the engine's next attempt (or the next
   ``routeyard run``) checks that job's status before anything is resubmitted.
4. Download every result into the store's work folder, hashed while it
   streams; the provider's URL is kept only as metadata.
5. Reconcile the cost in the provider's billing unit from what came back
   (megapixels of the image, seconds of the video) and write it to the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from routeyard import billing, catalog
from routeyard.canonical import digest
from routeyard.catalog import Model
from routeyard.errors import MediaError
from routeyard.media import probe_file
from routeyard.ops import InputAsset, Output
from routeyard.providers import settings as provider_settings
from routeyard.providers.base import (
    NO_SEED,
    SENT,
    AnswerLostError,
    AuthError,
    InvalidInputError,
    PermanentError,
    Provider,
    ProviderError,
    ProviderResult,
    RateLimitedError,
    ResultLostError,
    Task,
    TransientError,
)
from routeyard.providers.limits import LimitsRegistry
from routeyard.providers.mapping import png_bytes
from routeyard.providers.transfer import Http, JobLostError, Remote, strip_query

# Ledger states. A job in LIVE may still be running (or finished and not yet
# downloaded): a resumed run polls it instead of submitting again.
LIVE = ("submitted", "queued", "running", "succeeded")
# A request that may have created a paid job we cannot see: "submitting" (the
# process died while sending), "requested" (the same, for a synchronous call,
# from older stores) or "unknown" (its answer was lost). Never resubmitted
# without the operator's word.
MAYBE_BILLED = ("submitting", "requested", "unknown")
# A job that finished (billed) whose result could not be downloaded.
UNDOWNLOADABLE = "undownloadable"
# Requests the provider refused, or that its records show it never created.
NEVER_CREATED = ("refused", "not_accepted")
SUBMITTING_PREFIX = "pending-"
# What ``reconcile`` answers when the provider's records show no such job.
NOT_ACCEPTED = object()
# Seconds our clock may be ahead of a provider's when ``reconcile`` matches jobs
# "created since the request left". Wide on purpose: a larger window can only
# find more candidates (and refuse), never miss ours and resubmit.
CLOCK_SKEW_S = 120.0
_MIN_TIMEOUT_S, _MAX_TIMEOUT_S = 120.0, 1800.0
_LOST_AFTER = 2  # consecutive "no such job" answers before a job is written off


@dataclass
class Prepared:
    """A request ready to submit, and what the model could not honour."""

    payload: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    path: str = ""  # where to submit, when it depends on the endpoint
    # Whether the request carries the step's seed; None: read it off the payload.
    seed_sent: bool | None = None
    # Unique per submission; sent where the provider takes a client reference
    # (Kling's external_task_id), so a lost answer can be looked up. (Not named
    # "token": the ledger would redact it as a credential.)
    client_ref: str = ""


@dataclass
class Job:
    id: str
    meta: dict[str, Any] = field(default_factory=dict)  # what polling needs (URLs, op names)
    first: Poll | None = None  # an answer the submit already carried (Prefer: wait)


@dataclass
class Poll:
    state: str  # queued | running | succeeded | failed | cancelled
    files: list[Remote] = field(default_factory=list)
    error: ProviderError | None = None
    progress: float | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # provider-reported usage, seed, …


Billing = billing.Bill


def carries_seed(payload: Any, seed: int) -> bool:
    """Whether a request body sends ``seed``: a ``seed`` field anywhere in it, or
    ``--seed N`` in a prompt (ModelArk's text flags)."""
    if isinstance(payload, dict):
        if payload.get("seed") == seed:
            return True
        return any(carries_seed(v, seed) for v in payload.values())
    if isinstance(payload, list):
        return any(carries_seed(v, seed) for v in payload)
    if isinstance(payload, str):
        return f"--seed {seed}" in payload
    return False


def result_cap(model: Model, kind: str | None) -> int:
    """The most bytes a result of ``model`` can reasonably be, from its limits:
    an uncompressed image of its largest size, or its longest clip at 100 Mbit/s."""
    if kind == "video":
        seconds = max(model.limits.durations or (20.0,))
        return int(seconds * 100e6 / 8) + (1 << 20)
    limits = model.limits
    megapixels = limits.max_megapixels or ((limits.max_side or 4096) ** 2 / 1e6)
    return int(megapixels * 1e6 * 4 * 1.25) + (1 << 20)


def request_digest(payload: Any) -> str:
    """A short digest of a request body, to recognise it in a provider's job list."""
    return digest(payload)[:32]


def billed_request(task: Task) -> billing.Request:
    """The task's billed request: its parameters, the brief, its image inputs
    (the first sets an upscale's size; all count where references are billed)."""
    images = [a.record for a in task.inputs if a.record.kind == "image" and a.record.width]
    size = (images[0].width, images[0].height) if images else None
    sizes = [(r.width, r.height) for r in images]
    params = task.params.model_dump()
    return billing.request_for(task.op.name, params, task.brief, size, sizes)


class HostedProvider(Provider):
    """Base of the hosted adapters; subclasses speak one provider's protocol."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    # The provider's documented limits (PROVIDERS.md); a team with a bigger
    # plan raises them in the config file.
    default_limits: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        settings: provider_settings.ProviderSettings | None = None,
        *,
        limits: LimitsRegistry | None = None,
    ) -> None:
        """``limits``: the registry shared with the other adapters of this process
        (``api`` hands one in); alone, an adapter has limits of its own."""
        self._settings = settings
        self._limits = limits or LimitsRegistry()
        self._http: Http | None = None
        self._uploads: dict[str, str] = {}  # asset id → provider file URL, per process

    # ------------------------------------------------------------ settings
    @property
    def settings(self) -> provider_settings.ProviderSettings:
        if self._settings is None:
            self._settings = provider_settings.load(
                self.name, self.default_base_url, self.default_limits
            )
        return self._settings

    @property
    def http(self) -> Http:
        if self._http is None:
            s = self.settings
            self._http = Http(
                self.name,
                s.base_url,
                self._limits.for_provider(self.name, s.concurrency, s.requests_per_minute),
                self.auth_headers,
                timeout_s=s.request_timeout_s,
            )
        return self._http

    def configured(self) -> bool:
        names = provider_settings.credential_names(self.name)
        return not names or self.settings.credential(*names) is not None

    def require_credentials(self) -> None:
        if not self.configured():
            info = catalog.load().providers[self.name]
            raise AuthError(
                f"{self.name}: no credentials (set {' or '.join(info.env)} "
                f"or add them to {provider_settings.config_path()})"
            )

    # ------------------------------------------------------- the protocol
    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """The headers that authenticate a request (never logged, never stored)."""

    @abstractmethod
    async def prepare(self, task: Task, endpoint: str) -> Prepared:
        """Map the task onto the endpoint's fields; upload or inline its inputs."""

    @abstractmethod
    async def submit(self, endpoint: str, prepared: Prepared) -> Job | Poll:
        """Send the request: a ``Job`` to poll, or (synchronous APIs) the finished ``Poll``."""

    async def poll(self, job: Job) -> Poll:
        raise NotImplementedError

    async def cancel(self, job: Job) -> None:
        """Ask the provider to stop a job (best effort)."""

    @abstractmethod
    async def check(self) -> str:
        """One cheap authenticated call that spends nothing; returns what it learned."""

    # ------------------------------------------------------------ the run
    def is_synchronous(self, endpoint: str) -> bool:
        """Request/response endpoints (Gemini images, Seedream) have no job to poll."""
        return False

    def endpoint(self, task: Task) -> tuple[Model, str]:
        model = catalog.load().get(task.model)
        if model is None:
            raise InvalidInputError(f"{self.name}: model '{task.model}' is not in the catalog")
        for host in model.hosts:
            if host.provider == self.name and task.op.name in host.endpoints:
                return model, host.endpoints[task.op.name]
        raise InvalidInputError(f"{self.name} does not host '{task.model}' for '{task.op.name}'")

    async def run(self, task: Task) -> ProviderResult:
        self.require_credentials()
        model, endpoint = self.endpoint(task)
        async with self.http.limits.job():
            warnings: list[str] = []
            resumed = await self._resumable(task, endpoint, warnings)
            if resumed is not None:
                job, meta = resumed
                warnings.append(
                    f"resumed {self.name} job {job.id} submitted earlier (not submitted again)"
                )
                poll = await self._wait(task, job, model, meta)
            else:
                job, poll, meta = await self._submit_new(task, model, endpoint, warnings)
            outputs, bill = await self._collect(task, job, model, poll, meta)
            meta["billing"]["actual"] = bill.to_dict()
            meta["facts"] = poll.facts
            task.jobs.updated(job.id, status="succeeded", cost_usd=bill.usd, meta=meta)
            seed = self._seed_used(task, meta, poll, warnings)
            return ProviderResult(outputs=outputs, cost_usd=bill.usd, warnings=warnings, seed=seed)

    async def _submit_new(
        self, task: Task, model: Model, endpoint: str, warnings: list[str]
    ) -> tuple[Job, Poll, dict[str, Any]]:
        """Prepare and send a new request, the ledger entry written before it leaves."""
        prepared = await self.prepare(task, endpoint)
        warnings += prepared.warnings
        prepared.client_ref = uuid.uuid4().hex
        sent = prepared.seed_sent
        estimate = self.estimate(model, task)
        meta: dict[str, Any] = {
            "seed_sent": sent if sent is not None else carries_seed(prepared.payload, task.seed),
            "endpoint": endpoint,
            "billing": {"estimated": estimate.to_dict()},
            "warnings": prepared.warnings,
            "client_ref": prepared.client_ref,
            "since": time.time(),
            "request": request_digest(prepared.payload),
        }
        # Recorded before the request leaves: if its answer is lost, the ledger
        # still shows a job that may be running and billed.
        pending = f"{SUBMITTING_PREFIX}{prepared.client_ref}"
        task.jobs.submitted(pending, status="submitting", cost_usd=estimate.usd, meta=meta)
        try:
            answer = await self.submit(endpoint, prepared)
        except AnswerLostError as lost:
            job = await self._after_lost_answer(task, endpoint, pending, meta, lost)
            answer = job
        except ProviderError as exc:  # refused: no job was created, nothing billed
            self._failed(task, Job(pending), meta, exc, status="refused")
            raise
        if isinstance(answer, Poll):  # a synchronous endpoint answered with the result
            job = Job(pending)
            if answer.state != "succeeded":
                exc = answer.error or PermanentError(f"{self.name}: request failed")
                self._failed(task, job, meta, exc)
                raise exc
            task.jobs.updated(pending, status="succeeded", meta=meta)
            return job, answer, meta
        job = answer
        meta["poll"] = job.meta
        task.jobs.updated(pending, new_job_id=job.id, status="submitted", meta=meta)
        return job, await self._wait(task, job, model, meta), meta

    async def _after_lost_answer(
        self, task: Task, endpoint: str, pending: str, meta: dict[str, Any], lost: AnswerLostError
    ) -> Job:
        """The submit's answer was lost: find the job by its token where the
        provider allows; else end the step, the job kept as possibly billed."""
        found = await self._look_up(endpoint, meta)
        if isinstance(found, Job):
            meta["poll"], meta["reconciled"] = found.meta, str(lost)
            task.jobs.updated(pending, new_job_id=found.id, status="submitted", meta=meta)
            return found
        if found is NOT_ACCEPTED:  # the provider's records show no such job
            task.jobs.updated(pending, status="not_accepted", cost_usd=0.0, meta=meta)
            raise TransientError(f"{lost}; {self.name} has no record of it, so it is sent again")
        task.jobs.updated(pending, status="unknown", meta={**meta, "error": str(lost)})
        raise self._ambiguous(task, lost)

    def _ambiguous(self, task: Task, lost: ProviderError) -> AnswerLostError:
        return AnswerLostError(
            f"{self.name} may have accepted this {task.model} job; its answer was lost "
            f"({lost}) — check your {self.name} dashboard, then run again with "
            f"`--resubmit {task.ctx.step}`",
            hint="the job is in `routeyard costs` as possibly billed",
        )

    async def _look_up(self, endpoint: str, meta: dict[str, Any]) -> Job | object | None:
        """``reconcile``, where a job could exist to find (not for synchronous
        calls), and None when the lookup itself fails."""
        if not meta.get("client_ref") or self.is_synchronous(endpoint):
            return None
        with contextlib.suppress(TransientError, RateLimitedError):
            return await self.reconcile(endpoint, meta)
        return None

    async def reconcile(self, endpoint: str, meta: dict[str, Any]) -> Job | object | None:
        """After a lost submit answer: the job the provider made for this request
        (by ``meta['client_ref']`` or ``meta['request']``), ``NOT_ACCEPTED`` when the
        provider's records show none, or None when the provider cannot tell."""
        return None

    def _seed_used(
        self, task: Task, meta: dict[str, Any], poll: Poll, warnings: list[str]
    ) -> int | object | None:
        """What the lineage records as the seed: what the provider says it used,
        else the step's seed if the request carried it, else None with a warning."""
        reported = poll.facts.get("seed")
        if isinstance(reported, int) and not isinstance(reported, bool):
            return reported
        if meta.get("seed_sent", True):
            return SENT
        warnings.append(f"{task.model} on {self.name} {NO_SEED}")
        return None

    async def _resumable(
        self, task: Task, endpoint: str, warnings: list[str]
    ) -> tuple[Job, dict[str, Any]] | None:
        """The newest job for this cache key that may still be running or
        unstored, to poll instead of paying again; None to submit a new one."""
        for record in reversed(task.jobs.previous()):
            if record["provider"] != self.name:
                continue
            meta = dict(record["meta"])
            if record["status"] in LIVE:
                return Job(record["job_id"], dict(meta.get("poll") or {})), meta
            if record["status"] == UNDOWNLOADABLE and not meta.get("resubmitted"):
                if task.resubmit:
                    task.jobs.updated(record["job_id"], meta={**meta, "resubmitted": True})
                    return None
                raise ResultLostError(
                    f"{self.name} job {record['job_id']} finished but its result could not be "
                    f"downloaded ({meta.get('error', 'unknown')}) — run again with "
                    f"`--resubmit {task.ctx.step}` to pay for a new one"
                )
            if record["status"] not in MAYBE_BILLED:
                continue
            if task.resubmit:  # the operator checked: submit again, keep this one listed
                task.jobs.updated(
                    record["job_id"], status="unknown", meta={**meta, "resubmitted": True}
                )
                warnings.append(
                    f"submitting again as asked; the earlier {self.name} request "
                    f"({record['job_id']}) stays in `routeyard costs` as possibly billed"
                )
                return None
            if meta.get("resubmitted"):
                continue
            return await self._settle_unknown(task, endpoint, record, meta)
        return None

    async def _settle_unknown(
        self, task: Task, endpoint: str, record: dict[str, Any], meta: dict[str, Any]
    ) -> tuple[Job, dict[str, Any]] | None:
        """An earlier submit whose answer never arrived (lost, or the process
        died while sending): adopt the job it made, or refuse to pay twice."""
        found = await self._look_up(endpoint, meta)
        if isinstance(found, Job):
            meta["poll"] = found.meta
            task.jobs.updated(record["job_id"], new_job_id=found.id, status="submitted", meta=meta)
            return found, meta
        if found is NOT_ACCEPTED:
            task.jobs.updated(record["job_id"], status="not_accepted", cost_usd=0.0)
            return None
        task.jobs.updated(record["job_id"], status="unknown")
        raise self._ambiguous(
            task, AnswerLostError(f"earlier request {record['job_id']} never got its answer")
        )

    def timeout_for(self, model: Model) -> float:
        if self.settings.timeout_s:
            return float(self.settings.timeout_s)
        return min(_MAX_TIMEOUT_S, max(_MIN_TIMEOUT_S, model.latency_s * 10))

    async def _wait(self, task: Task, job: Job, model: Model, meta: dict[str, Any]) -> Poll:
        s = self.settings
        limit = self.timeout_for(model)
        deadline = time.monotonic() + limit
        delay, state, lost, last_error = s.poll_initial_s, meta.get("state"), 0, None
        while True:
            poll = None
            try:
                poll, job.first = job.first or await self.poll(job), None
                lost = 0
            except JobLostError as exc:
                lost += 1
                last_error = str(exc)
                if lost >= _LOST_AFTER:
                    task.jobs.updated(job.id, status="lost", meta={**meta, "error": last_error})
                    raise
            except (TransientError, RateLimitedError) as exc:
                # The job is fine; our view of it is not. Keep polling.
                last_error = str(exc)
                if exc.retry_after:
                    delay = max(delay, exc.retry_after)
            if poll is not None:
                if poll.state != state:
                    state = meta["state"] = poll.state
                    task.jobs.updated(job.id, status=poll.state, meta=meta)
                if poll.progress is not None:
                    task.ctx.report_progress(poll.progress)
                if poll.state == "succeeded":
                    return poll
                if poll.state in ("failed", "cancelled"):
                    exc = poll.error or PermanentError(f"{self.name}: job {job.id} {poll.state}")
                    self._failed(task, job, meta, exc, status=poll.state)
                    raise exc
            left = deadline - time.monotonic()
            if left <= 0:
                why = f"; last poll error: {last_error}" if last_error else ""
                raise TransientError(
                    f"{self.name}: job {job.id} still {state or 'unanswered'} after {limit:.0f} s"
                    f"{why}; it stays in the ledger and the next attempt resumes it"
                )
            await asyncio.sleep(min(delay * random.uniform(0.8, 1.0), left))
            delay = min(delay * 1.6, s.poll_cap_s)

    def _failed(
        self,
        task: Task,
        job: Job,
        meta: dict[str, Any],
        exc: ProviderError,
        status: str = "failed",
    ) -> None:
        # A job the provider refused or failed is not billed by any provider here.
        task.jobs.updated(
            job.id, status=status, cost_usd=0.0, meta={**meta, "error": str(exc), "kind": exc.kind}
        )

    async def _collect(
        self, task: Task, job: Job, model: Model, poll: Poll, meta: dict[str, Any]
    ) -> tuple[list[Output], Billing]:
        if not poll.files:
            raise PermanentError(f"{self.name}: job {job.id} succeeded without a result file")
        folder = task.ctx.work_dir / f"{self.name}-{job.id}"[:80]
        outputs, facts = [], []
        for remote in poll.files:
            try:
                path, digest, mime = await self.http.download(
                    remote,
                    folder,
                    timeout_s=self.settings.download_timeout_s,
                    max_bytes=result_cap(model, task.op.produces),
                )
            except ProviderError as exc:
                raise self._undownloadable(task, job, meta, exc) from None
            try:
                fact = await asyncio.to_thread(probe_file, path, mime_hint=mime)
            except MediaError as exc:
                raise PermanentError(f"{self.name}: job {job.id} returned {exc.message}") from None
            facts.append(fact)
            outputs.append(
                Output(
                    path=path,
                    mime_hint=fact.mime,
                    meta={
                        "provider": self.name,
                        "job_id": job.id,
                        "endpoint": meta.get("endpoint"),
                        "source_url": strip_query(remote.url)
                        if remote.url and not remote.url.startswith("data:")
                        else "inline",
                        "sha256": digest,
                    },
                )
            )
        meta["outputs"] = [o.meta["sha256"] for o in outputs]
        tokens = poll.facts.get("billed_tokens")
        return outputs, self.actual(model, task, facts, tokens)

    def _undownloadable(
        self, task: Task, job: Job, meta: dict[str, Any], exc: ProviderError
    ) -> ResultLostError:
        """The job finished (and is billed) but its result cannot be fetched: end
        it in the ledger, so no later run polls it for ever, and say what to do."""
        cost = (meta.get("billing") or {}).get("estimated", {}).get("usd")
        task.jobs.updated(
            job.id, status=UNDOWNLOADABLE, cost_usd=cost, meta={**meta, "error": str(exc)}
        )
        return ResultLostError(
            f"{self.name} job {job.id} finished (and is billed) but its result cannot be "
            f"downloaded: {exc} — run again with `--resubmit {task.ctx.step}` to pay for a new one"
        )

    # -------------------------------------------------------------- costs
    def estimate(self, model: Model, task: Task) -> Billing:
        """The bill before submitting, in the provider's unit (``billing``, the
        router's and the budget guard's figure too)."""
        return billing.estimate(model, billed_request(task), self.name)

    def actual(
        self, model: Model, task: Task, facts: list[Any], usage_tokens: float | None = None
    ) -> Billing:
        """The bill from what came back: output megapixels, video seconds, image
        count, or the tokens the provider reported using."""
        return billing.actual(model, billed_request(task), facts, self.name, usage_tokens)

    # ------------------------------------------------------------ helpers
    async def from_schema(
        self, task: Task, req: Any, where: str, notes: list[str]
    ) -> tuple[dict[str, Any], set[str]] | None:
        """The body from the host's request schema in the catalog (inputs uploaded
        first), or None when the host has none and the adapter's code builds it."""
        from routeyard.providers import schema

        model, _ = self.endpoint(task)
        host = model.host(self.name)
        if host is None or host.request is None:
            return None
        images = [await self.upload(a) for a in req.images]
        mask = None
        if req.mask_png and "mask" in host.request.fields:
            mask = await self.upload_bytes(req.mask_png, "image/png", "mask.png")
        return schema.build(
            host.request, req, model, images=images, mask=mask, where=where,
            notes=notes, node=task.node,
        )  # fmt: skip

    async def upload(self, asset: InputAsset) -> str:
        """The provider's URL for an input asset, uploaded once per process."""
        if asset.id not in self._uploads:
            data, mime = png_bytes(asset)
            name = f"{asset.id[:16]}.{mime.split('/')[1]}"
            self._uploads[asset.id] = await self.upload_bytes(data, mime, name)
        return self._uploads[asset.id]

    async def upload_bytes(self, data: bytes, mime: str, name: str) -> str:
        """Put bytes where the provider can read them (providers with an upload API)."""
        raise NotImplementedError(f"{self.name} takes inputs inline")

    async def aclose(self) -> None:
        if self._http is not None:
            for client in self._http._clients.values():
                with contextlib.suppress(Exception):
                    await client.aclose()
