"""The fault scripts: every run ends correct or with a clear error, and no job
is submitted twice for one step (the fakes count submissions)."""

from __future__ import annotations

import asyncio

import pytest

from routeyard import api
from routeyard.api import build_engine
from routeyard.pipeline.spec import load_file
from routeyard.store import Store
from tests.providers.cases import async_providers, image_edit_model, video_model
from tests.providers.conftest import FAKES, KEYS

ANIMATE = """\
brief: {prompt: "a cup of coffee, steam rising"}
steps:
  base: {op: import, source: "sample:coffee"}
  motion: {op: animate, input: base, model: %s, seconds: 5}
"""
ASYNC = async_providers()
VIDEO = {p: video_model(p) for p in FAKES}


@pytest.mark.parametrize("provider", ASYNC)
@pytest.mark.parametrize("faults", [("500", "429", "garbled"), ("drop", "503", "timeout")])
def test_failed_polls_are_not_failed_jobs(fakes, home, write, provider, faults):
    fake = fakes(provider, queued_s=0.1, running_s=1.2)
    fake.script("status", *faults)
    run = api.run_pipeline(write(ANIMATE % VIDEO[provider]))
    assert run["status"] == "done", run["steps"][-1]["error"]
    assert fake.total_submissions == 1
    assert not fake.faults["status"]  # every scripted fault was met


@pytest.mark.parametrize("provider", ASYNC)
def test_a_rejected_submit_is_retried_once_it_clears(fakes, home, write, provider):
    fake = fakes(provider)
    fake.script("submit", "503", "429")
    run = api.run_pipeline(write(ANIMATE % VIDEO[provider]))
    assert run["status"] == "done"
    assert fake.total_submissions == 1  # the refused submits created no job
    with Store.open(home) as store:
        motion = store.catalog.get_run(run["run"]).steps[-1]
    assert (motion.status, motion.attempts) == ("executed", 3)  # 503, 429, then accepted
    assert api.costs(run["run"])["jobs"][0]["status"] == "succeeded"


@pytest.mark.parametrize("provider", ASYNC)
def test_result_url_that_404s_for_a_while_is_retried(fakes, home, write, provider):
    fake = fakes(provider)
    fake.not_ready_first = 2
    run = api.run_pipeline(write(ANIMATE % VIDEO[provider]))
    assert run["status"] == "done"
    assert fake.total_submissions == 1
    if provider != "google":  # Veo downloads from its own authenticated route
        assert sum(fake.downloads.values()) == 1


@pytest.mark.parametrize("provider", ASYNC)
def test_policy_rejection_falls_back_to_the_next_model(fakes, home, write, provider):
    fake = fakes(provider)
    fake.outcomes = ["policy"]  # the job is accepted, then refused by the provider's checker
    text = """\
brief: {prompt: "a cup of coffee, steam rising", motion: gentle}
steps:
  base: {op: import, source: "sample:coffee"}
  motion: {op: animate, input: base, seconds: 5}
"""
    run = api.run_pipeline(write(text))
    step = run["steps"][-1]
    jobs = api.costs(run["run"])["jobs"]
    assert jobs[0]["status"] == "failed" and jobs[0]["cost_usd"] == 0.0
    assert len(jobs) == fake.total_submissions
    if run["status"] == "done":  # the next model of the route took over (hosted or local)
        assert step["model"] != jobs[0]["model"]
    else:
        assert "rejected_by_policy" in step["error"]
    assert all(n == 1 for n in fake.submissions.values())


@pytest.mark.parametrize("provider", ASYNC)
def test_job_that_fails_after_acceptance_ends_clearly(fakes, home, write, provider):
    fake = fakes(provider)
    fake.outcomes = ["fail"] * 10
    run = api.run_pipeline(write(ANIMATE % VIDEO[provider]))
    step = run["steps"][-1]
    assert run["status"] == "failed"
    assert step["status"] == "failed" and provider in step["error"]
    assert "Traceback" not in step["error"]
    # a failed job is not resubmitted as if it were lost: each try is one new, recorded job
    jobs = api.costs(run["run"])["jobs"]
    assert len(jobs) == fake.total_submissions
    assert all(j["status"] == "failed" for j in jobs)


@pytest.mark.parametrize("provider", sorted(FAKES))
def test_wrong_key_ends_the_step_without_retrying(fakes, home, write, provider, monkeypatch):
    fake = fakes(provider)
    for var in KEYS[provider]:
        monkeypatch.setenv(var, "wrong-key-value-123456789012345678901234")
    model = VIDEO[provider] or image_edit_model(provider)
    op = "animate" if VIDEO[provider] else "edit"
    extra = ", prompt: x" if op == "edit" else ""
    step = f"{{op: {op}, input: base, model: {model}{extra}}}"
    text = f"steps:\n  base: {{op: import, source: 'sample:coffee'}}\n  out: {step}\n"
    run = api.run_pipeline(write(text))
    out = run["steps"][-1]
    assert out["status"] == "failed" and "(auth)" in out["error"]
    assert fake.total_submissions == 0
    assert len([r for r in fake.requests if r[0] == "POST"]) <= 2  # no retry storm


def test_poll_timeout_keeps_the_job_and_the_next_attempt_resumes_it(
    fakes, home, write, provider_env
):
    from tests.providers.conftest import write_config

    write_config(provider_env, timeout_s=0.4)
    fake = fakes("kling", queued_s=0.2, running_s=1.0)
    run = api.run_pipeline(write(ANIMATE % "kling-2.5-turbo-pro"))
    assert run["status"] == "done"
    assert fake.total_submissions == 1  # the timed-out job was polled again, not resubmitted
    assert any("resumed kling job" in w for w in run["steps"][-1]["warnings"])


def test_ctrl_c_then_run_resumes_the_same_job(fakes, home, write):
    fake = fakes("kling", queued_s=0.3, running_s=1.5)
    path = write(ANIMATE % "kling-2.5-turbo-pro")

    async def interrupted() -> None:
        with Store.open(home) as store:
            task = asyncio.create_task(build_engine(store).run(load_file(path)))
            while fake.total_submissions == 0:
                await asyncio.sleep(0.02)
            # Cancelled whether or not the submit's answer has arrived: the ledger
            # row was written before it left, and Kling finds it by its reference.
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(interrupted())
    first = list(fake.jobs)
    run = api.run_pipeline(path)
    assert run["status"] == "done"
    assert fake.total_submissions == 1 and list(fake.jobs) == first
    [job] = api.costs()["jobs"]
    assert job["job_id"] == first[0] and job["run"] == run["run"] and job["status"] == "succeeded"
