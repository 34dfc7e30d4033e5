"""The brief reader: negation scope, quoted text in any script, implied text,
explicit fields winning, and the evidence every decision names."""

from __future__ import annotations

import pytest

from routeyard import ops
from routeyard.brief import Brief
from routeyard.routing import intent
from routeyard.routing.requirements import analyse

semantic = pytest.mark.skipif(not intent.available(), reason="the `intent` extra is not installed")


@pytest.mark.parametrize(
    "prompt, text",
    [
        ("a cafe sign „Guten Morgen“ above the door", "Guten Morgen"),
        ("an album cover with «Noches de Verano» in script", "Noches de Verano"),
        ("a festival banner 「夏祭り」 over the street", "夏祭り"),
        ('a sticker that says "limited edition"', "limited edition"),
        ("a door plaque with 'Dr. Ana Ruiz' engraved", "Dr. Ana Ruiz"),
    ],
)
def test_quoted_text_in_any_script_is_text_to_render(prompt, text):
    assert intent.quoted(prompt) == text
    req = analyse(Brief(prompt=prompt), "generate", "base")
    assert req.weights["typography"] == 3.0
    assert text in req.evidence["typography"]


def test_an_apostrophe_is_not_a_quotation():
    assert intent.quoted("the baker's dog and the cat's toy") is None


@pytest.mark.parametrize(
    "prompt, named",
    [
        ("a protest placard reading CLIMATE NOW", "CLIMATE NOW"),
        ("a shipping box stamped FRAGILE", "FRAGILE"),
        ("un cartel que dice GRAN APERTURA", "GRAN APERTURA"),
    ],
)
def test_text_named_after_a_verb_of_writing_needs_legible_text(prompt, named):
    req = analyse(Brief(prompt=prompt), "generate", "base")
    assert req.weights["typography"] == 3.0
    assert named in req.evidence["typography"]


def test_negation_takes_the_clause_out_and_counts_against_its_intent():
    positive, negated = intent.clauses("a dancer, not an action shot, just a slow turn")
    assert negated == ["an action shot"]
    assert "a dancer" in positive and "just a slow turn" in positive
    req = analyse(Brief(prompt="a sports car on display, not an action shot"), "animate", "motion")
    assert "motion_physics" not in req.evidence


@semantic
def test_implicit_gentle_motion_reads_as_gentle_with_its_evidence():
    for prompt in ("fog rolling slowly across a mountain lake", "a cat asleep on a windowsill"):
        req = analyse(Brief(prompt=prompt), "animate", "motion")
        assert req.weights["motion_smoothness"] == 3.0, req.evidence
        assert "reads as" in req.evidence["motion_smoothness"]  # the clause and the description


@semantic
def test_heavy_motion_without_a_keyword_reads_as_cinematic():
    req = analyse(Brief(prompt="a building collapsing in a cloud of dust"), "animate", "motion")
    assert req.weights["motion_physics"] == 3.0, req.evidence


def test_explicit_fields_win_and_the_overridden_reading_is_noted():
    req = analyse(Brief(prompt="a car chase", motion="gentle"), "animate", "motion")
    assert req.weights["motion_smoothness"] == 3.0
    assert "motion_physics" not in req.evidence
    assert any("brief.motion is 'gentle'" in n for n in req.notes)


def test_the_router_names_the_evidence_in_its_reason():
    from routeyard.catalog import load
    from routeyard.routing.router import CatalogRouter
    from tests.support.evaluation import all_keys

    cat = load()
    router = CatalogRouter(cat, env=all_keys(cat))
    d = router.decide(
        op=ops.get_op("generate"), model="auto", params={},
        brief=Brief(prompt="a shop sign «Fromagerie» in Paris"),
    )  # fmt: skip
    assert d.candidates[0]["family"] in ("flux", "gpt-image")
    assert "Fromagerie" in d.reason


@semantic
def test_the_numpy_forward_pass_matches_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    import numpy as np

    from routeyard.routing.minilm import MiniLM

    path = intent.model_path()
    texts = ["a slow breath of fog over a lake", "Eine Verfolgungsjagd!", "«Fromagerie»"]
    ours = MiniLM(path).encode(texts)
    theirs = st.SentenceTransformer(path, device="cpu").encode(texts, normalize_embeddings=True)
    assert np.allclose((ours * theirs).sum(1), 1.0, atol=1e-4)
