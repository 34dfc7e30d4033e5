"""Nothing paid twice: a submit whose answer is lost after the provider accepted
the job is reconciled where the provider allows it, and otherwise refused with
one clear line — never sent again on its own. The fakes count what they made."""

from __future__ import annotations

import pytest

from routeyard import api
from routeyard.providers import hosted_providers
from routeyard.providers.hosted import HostedProvider
from tests.providers.cases import STEP, hosted_endpoints, price_by_overlay
from tests.providers.conftest import FAKES, write_config

LOST = ["lost:drop", "lost:html200", "lost:502", "lost:timeout"]
ADAPTERS = hosted_providers()


def _job_endpoint(provider: str) -> tuple[str, str]:
    """An (op, model) whose request creates a job to poll (video first)."""
    adapter = ADAPTERS[provider]
    found = [
        (op, model)
        for p, op, model, endpoint in hosted_endpoints()
        if p == provider and op in STEP and not adapter.is_synchronous(endpoint)
    ]
    if not found:  # a provider of synchronous calls only (OpenAI's images)
        found = [
            (op, model) for p, op, model, _ in hosted_endpoints() if p == provider and op in STEP
        ]
    return next((c for c in found if c[0] == "animate"), found[0])


def _reconciles(provider: str) -> bool:
    """Whether the adapter can look a job up after its create answer was lost."""
    return type(ADAPTERS[provider]).reconcile is not HostedProvider.reconcile


def pipeline(provider: str) -> str:
    op, model = _job_endpoint(provider)
    base = "  base: {op: import, source: 'sample:coffee'}\n" if op != "generate" else ""
    return (
        "brief: {prompt: 'a cup of coffee, steam rising'}\n"
        f"steps:\n{base}  out: {STEP[op] % model}\n"
    )


@pytest.mark.parametrize("fault", LOST)
@pytest.mark.parametrize("provider", sorted(FAKES))
def test_a_lost_submit_answer_is_one_job_or_one_clear_refusal(
    fakes, home, write, provider_env, provider, fault, tmp_path, monkeypatch
):
    price_by_overlay(provider, _job_endpoint(provider)[1], tmp_path, monkeypatch)
    # A short patience for one answer (the held one times out), and a job still
    # running when it is looked up, so no lookup waits on the fake rendering it.
    write_config(provider_env, request_timeout_s=1.0)
    fake = fakes(provider, running_s=3.0)
    fake.script("submit", fault)
    run = api.run_pipeline(write(pipeline(provider)))
    out = run["steps"][-1]
    assert fake.total_submissions == 1  # never a second job for one step
    costs = api.costs(run["run"])
    [job] = costs["jobs"]
    if _reconciles(provider):  # found by its token (Kling) or in the provider's job list
        assert run["status"] == "done", out["error"]
        assert job["status"] == "succeeded" and job["job_id"] == next(iter(fake.jobs))
        assert costs["may_be_billed_usd"] == 0
    else:
        assert run["status"] == "failed"
        assert f"{provider} may have accepted this" in out["error"]
        assert "--resubmit out" in out["error"] and "Traceback" not in out["error"]
        assert job["status"] == "unknown" and job["may_be_billed"]
        assert job["estimated_usd"] > 0
        assert costs["may_be_billed_usd"] == pytest.approx(job["estimated_usd"])


@pytest.mark.parametrize("provider", [p for p in sorted(FAKES) if not _reconciles(p)] or ["none"])
def test_an_unreconciled_job_is_resubmitted_only_when_the_operator_says(
    fakes, home, write, provider, tmp_path, monkeypatch
):
    if provider == "none":
        pytest.skip("every adapter reconciles")
    price_by_overlay(provider, _job_endpoint(provider)[1], tmp_path, monkeypatch)
    fake = fakes(provider)
    fake.script("submit", "lost:drop")
    path = write(pipeline(provider))
    assert api.run_pipeline(path)["status"] == "failed"
    again = api.run_pipeline(path)  # same step, same cache key: still refused, still one job
    assert again["status"] == "failed" and "may have accepted" in again["steps"][-1]["error"]
    assert fake.total_submissions == 1
    done = api.run_pipeline(path, resubmit=["out"])
    assert done["status"] == "done" and fake.total_submissions == 2
    assert any("submitting again as asked" in w for w in done["steps"][-1]["warnings"])
    jobs = api.costs()["jobs"]
    assert [j["status"] for j in jobs] == ["unknown", "succeeded"]
    assert jobs[0]["may_be_billed"] and not jobs[1]["may_be_billed"]


def test_a_refused_submit_is_not_a_job_and_is_sent_again(fakes, home, write):
    fake = fakes("kling")
    fake.script("submit", "503")  # the provider's own answer: nothing was created
    run = api.run_pipeline(write(pipeline("kling")))
    assert run["status"] == "done" and fake.total_submissions == 1
    assert [j["status"] for j in api.costs()["jobs"]] == ["succeeded"]


def test_a_process_killed_while_sending_is_settled_by_the_token(fakes, home, write):
    """A ledger row left 'submitting' (the process died mid-send) is looked up
    by its token on the next run: the job Kling made is polled, not paid again."""
    from routeyard.store import Store

    fake = fakes("kling")
    fake.script("submit", "lost:drop")
    path = write(pipeline("kling"))
    first = api.run_pipeline(path)
    assert first["status"] == "done"
    with Store.open(home) as store:  # make the row look as a kill -9 mid-send leaves it
        [row] = store.catalog.jobs()
        store.catalog.update_job("kling", row["job_id"], job_id="pending-x", status="submitting")
        store.catalog.update_job("kling", "pending-x", meta={**row["meta"], "poll": {}})
        for asset in first["steps"][-1]["outputs"]:
            store.blobs.path(asset).unlink()  # the result never reached the store
    second = api.run_pipeline(path)
    assert second["status"] == "done" and fake.total_submissions == 1
    [job] = api.costs()["jobs"]
    assert job["status"] == "succeeded" and job["job_id"] == next(iter(fake.jobs))
