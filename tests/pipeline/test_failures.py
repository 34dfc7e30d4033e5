"""Failures that tell the truth: a bug fails its step with its traceback in the
run's log and never falls back to another (possibly paid) provider; the log
masks every credential."""

from __future__ import annotations

import logging

from routeyard import api
from routeyard.errors import PermanentError, ProviderError, RouteyardError
from routeyard.logs import RedactingFilter
from routeyard.pipeline.spec import parse
from routeyard.providers import Provider, ProviderResult, Task
from routeyard.store import Store
from tests.fakes.hosted import ChainRouter, ScriptedProvider

LIVE_KEY = "sk-live-4f9a7c2e1b8d6a3f0e5c9b7a"


class CrashingProvider(Provider):
    """An adapter with a bug: it raises a TypeError that quotes its key."""

    name = "crashy"

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def run(self, task: Task) -> ProviderResult:
        self.calls.append(task.model)
        raise TypeError(f"unsupported operand for header {LIVE_KEY!r}")


def _run(home, tmp_path, providers, chain):
    spec = parse("steps:\n  a: {op: test.work, value: 1}\n", base_dir=tmp_path)
    return api.run_pipeline(
        spec,
        home=home,
        engine_options={"router": ChainRouter(chain), "providers": providers},
    )


def test_a_crash_in_an_adapter_fails_the_step_and_never_pays_the_next(home, tmp_path, monkeypatch):
    monkeypatch.setenv("CRASHY_API_KEY", LIVE_KEY)
    crashy, paid = CrashingProvider(), ScriptedProvider(name="paid", cost_usd=0.4)
    run = _run(
        home,
        tmp_path,
        {"crashy": crashy, "paid": paid},
        [("m1", "crashy", 0.0), ("m2", "paid", 0.4)],
    )
    [step] = run["steps"]
    assert run["status"] == "failed" and step["status"] == "failed"
    assert crashy.calls == ["m1"]
    assert paid.calls == []  # the bug did not move the work to a paid provider
    assert "crashed (TypeError" in step["error"] and "run's log" in step["error"]
    assert LIVE_KEY not in step["error"]
    log = (home / "logs" / f"{run['run']}.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "TypeError: unsupported operand" in log
    assert "CrashingProvider" not in step["error"]
    assert LIVE_KEY not in log and "***" in log
    with Store.open(home) as store:
        assert store.catalog.get_run(run["run"]).steps[0].cost_usd == 0


def test_a_provider_error_that_names_a_fallback_kind_still_falls_back(home, tmp_path):
    first = ScriptedProvider(name="first", scripts={"m1": ["permanent"]})
    second = ScriptedProvider(name="second")
    run = _run(
        home,
        tmp_path,
        {"first": first, "second": second},
        [("m1", "first", 0.0), ("m2", "second", 0.0)],
    )
    assert run["status"] == "done"
    assert (first.calls, second.calls) == (["m1"], ["m2"])
    log = (home / "logs" / f"{run['run']}.log").read_text()
    assert "m1 failed (permanent)" in log and "Traceback" not in log


def test_the_redaction_filter_masks_message_arguments_and_tracebacks():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("routeyard.test-redaction")
    handler = Keep()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter([LIVE_KEY]))
    logger.addHandler(handler)
    try:
        logger.warning("calling with key %s", LIVE_KEY)
        try:
            raise ValueError(f"bad header Bearer {LIVE_KEY}")
        except ValueError:
            logger.exception("adapter crashed")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2
    assert all(LIVE_KEY not in r for r in records)
    assert records[0] == "calling with key ***"
    assert "ValueError: bad header Bearer ***" in records[1]


def test_provider_and_op_errors_are_routeyard_errors_with_their_exit_codes():
    from routeyard.errors import (
        AuthError,
        CancelledByUser,
        InvalidInputError,
        OpInputError,
        PipelineError,
        TransientError,
    )

    assert issubclass(ProviderError, RouteyardError) and issubclass(OpInputError, RouteyardError)
    assert (PermanentError.falls_back, TransientError.retryable) == (True, True)
    assert not InvalidInputError.falls_back and not AuthError.falls_back
    codes = {c.exit_code for c in (RouteyardError, PipelineError, ProviderError, CancelledByUser)}
    assert codes == {1, 2, 5, 130}
