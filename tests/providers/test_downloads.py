"""Result downloads under a hostile or broken host: bounded redirects, one
deadline, a size cap — and a billed job whose result cannot be fetched ends
clearly, and is paid for again only when the operator says."""

from __future__ import annotations

import pytest

from routeyard import api
from tests.providers.conftest import write_config

PIPELINE = """\
brief: {prompt: "a cup of coffee, steam rising"}
steps:
  base: {op: import, source: "sample:coffee"}
  motion: {op: animate, input: base, model: kling-2.5-turbo-pro, seconds: 5}
"""


def _file_gets(fake) -> int:
    return sum(1 for method, path in fake.requests if method == "GET" and "/files/" in path)


@pytest.mark.parametrize(
    ("hosting", "said"),
    [
        ("redirect", "redirects more than 5 times"),
        ("inflate", "larger than the provider announced"),
        ("trickle", "the download deadline passed"),
    ],
)
def test_a_hostile_result_host_ends_the_job_clearly_and_billed(
    fakes, home, write, provider_env, hosting, said
):
    write_config(provider_env, download_timeout_s=2)
    fake = fakes("fal")
    fake.result_hosting = hosting
    run = api.run_pipeline(write(PIPELINE))
    step = run["steps"][-1]
    assert run["status"] == "failed" and said in step["error"]
    assert "cannot be downloaded" in step["error"] and "--resubmit motion" in step["error"]
    assert fake.total_submissions == 1
    # Bounded: six requests for a redirect loop, one for a body over its size.
    assert _file_gets(fake) <= {"redirect": 6, "inflate": 1, "trickle": 1}[hosting]
    [job] = api.costs(run["run"])["jobs"]
    assert job["status"] == "undownloadable" and job["cost_usd"] == job["estimated_usd"] > 0


def test_a_result_that_never_arrives_is_not_polled_for_ever(fakes, home, write, provider_env):
    write_config(provider_env, download_timeout_s=1)
    fake = fakes("fal")
    fake.not_ready_first = 10**6  # the CDN never has it
    path = write(PIPELINE)
    assert api.run_pipeline(path)["status"] == "failed"
    again = api.run_pipeline(path)  # the job is ended: refused, not resumed again
    assert "could not be downloaded" in again["steps"][-1]["error"]
    assert fake.total_submissions == 1
    fake.not_ready_first = 0
    done = api.run_pipeline(path, resubmit=["motion"])
    assert done["status"] == "done" and fake.total_submissions == 2
    assert [j["status"] for j in api.costs()["jobs"]] == ["undownloadable", "succeeded"]
