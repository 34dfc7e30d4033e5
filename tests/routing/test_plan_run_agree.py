"""Plan and run agree: `route --explain`, `plan --dry-run` and the engine rank
with the same learned pass rates, cooldowns and keys (issue 17, item 7)."""

from __future__ import annotations

from routeyard import api, ops
from routeyard.brief import Brief
from routeyard.store import Store

BRIEF = "brief: {prompt: 'A billboard at dusk', text: 'SUMMER DROP'}\n"


def _ranks(entries: list[dict], step: str) -> list[str]:
    entry = next(e for e in entries if e["step"] == step)
    return [c["model"] for c in entry["candidates"]]


def test_thirty_failures_move_the_model_down_in_all_three(home, write, monkeypatch):
    for var in ("OPENAI_API_KEY", "FAL_KEY", "BFL_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(var, "set-for-routing-only")
    path = write(BRIEF + "steps:\n  base: {op: generate}\n")
    before = _ranks(api.route(path), "base")
    leader = before[0]

    for _ in range(30):  # the typography gate failed it thirty times on text briefs
        api.record_outcome(leader, "base", ["text"], 0.1, False, gate="typography")

    explained = _ranks(api.route(path), "base")
    planned = _ranks(api.plan_dry_run(path)["steps"], "base")
    with Store.open(home) as store:
        engine = api.build_engine(store)
        brief = Brief(prompt="A billboard at dusk", text="SUMMER DROP")
        decision = engine.router.decide(
            op=ops.get_op("generate"), model="auto", params={}, brief=brief
        )
    ran = [c["model"] for c in decision.candidates]

    assert explained[0] != leader, "thirty failures must cost the leader its place"
    assert explained.index(leader) == ran.index(leader)  # the explanation is the engine's order
    assert explained[:5] == ran[:5]
    # the dry run prices every host; the learned term moves it the same way
    assert planned.index(leader) > 0
    learned = next(
        c["learned"] for e in api.route(path) for c in e["candidates"] if c["model"] == leader
    )
    assert learned < 0
