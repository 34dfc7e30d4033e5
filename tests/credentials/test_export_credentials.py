"""Exports carry the marking in every format; prompts are disclosed as the brief
says; no signer means marking plus one warning; keys never leak; verify reads
any file and exits by what it found."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from routeyard import api, config
from routeyard.credentials import authority, marking
from routeyard.errors import ConfigError
from tests.conftest import subprocess_env
from tests.support import credentials as cred

PROMPT = "A confidential teaser for Project Nightjar over neon harbour rain"

PIPELINE = """
brief:
  prompt: "{prompt}"
  {provenance}
steps:
  base:  {{op: import, source: "{source}"}}
  small: {{op: resize, input: base, width: 320, height: 240}}
  out:   {{op: export, input: [small], dir: out/}}
"""


def _run(write, *, provenance: str = "", source: str = "sample:coffee") -> tuple[dict, Path]:
    path = write(PIPELINE.format(prompt=PROMPT, provenance=provenance, source=source))
    run = api.run_pipeline(path)
    assert run["status"] == "done", [(s["name"], s["error"]) for s in run["steps"]]
    return run, path.parent / "out"


def _only(out: Path) -> Path:
    sidecar = json.loads((out / "provenance.json").read_text())
    return out / sidecar["deliverables"][0]["file"]


def test_prompts_none_leaves_no_prompt_text_in_the_file_or_sidecar(home, write, test_signer):
    run, out = _run(write, provenance="provenance: {prompts: none}")
    delivered = _only(out)
    for blob in (delivered.read_bytes(), (out / "provenance.json").read_bytes()):
        lowered = blob.lower()
        assert b"nightjar" not in lowered and b"neon harbour" not in lowered
        assert b"confidential teaser" not in lowered
    state, manifest, _ = cred.read(delivered, test_signer)
    assert state == "Trusted"
    assert cred.assertion(manifest, "com.routeyard.lineage")["disclosure"] == {"prompts": "none"}
    assert cred.marking(delivered)["routeyard:PromptDisclosure"] == "prompts=none"
    # the store keeps the prompt: only what leaves the building is withheld
    assert api.lineage(run["steps"][-1]["inputs"][0], home=home)["prompt"] == PROMPT


def test_prompts_hash_and_full(home, write, test_signer):
    import hashlib

    _, out = _run(write, provenance="provenance: {prompts: hash}")
    data = _only(out).read_bytes()
    assert b"Nightjar" not in data
    assert hashlib.sha256(PROMPT.encode()).hexdigest().encode() in data
    _, out = _run(write)  # full, the default: the prompt is in the XMP and the manifest
    delivered = _only(out)
    assert cred.marking(delivered)["Iptc4xmpExt:AIPromptInformation"] == PROMPT
    _, manifest, _ = cred.read(delivered, test_signer)
    steps = cred.assertion(manifest, "com.routeyard.lineage")["steps"]
    assert steps[-1]["prompt"] == PROMPT


def test_without_a_signer_export_marks_and_warns(home, write, tmp_path, monkeypatch, caplog):
    import c2pa

    from routeyard.store import provenance

    monkeypatch.setenv("ROUTEYARD_CREDENTIALS_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(provenance, "_warned_unsigned", False)
    caplog.set_level(logging.WARNING)
    run, out = _run(write)
    delivered = _only(out)
    assert c2pa.Reader.try_create("image/png", io.BytesIO(delivered.read_bytes())) is None
    marked = cred.marking(delivered)
    assert marked["Iptc4xmpExt:DigitalSourceType"] == cred.IPTC + "algorithmicallyEnhanced"
    assert marking.read(delivered) is not None
    export = next(s for s in run["steps"] if s["name"] == "out")
    assert any("no C2PA signer" in w for w in export["warnings"])
    assert [r.message for r in caplog.records].count(provenance.UNSIGNED_WARNING) == 1
    sidecar = json.loads((out / "provenance.json").read_text())
    assert sidecar["deliverables"][0]["provenance"]["signed"] is False
    done = subprocess.run(
        [sys.executable, "-m", "routeyard.cli", "verify", str(delivered)],
        env=subprocess_env(home) | {"ROUTEYARD_CREDENTIALS_DIR": str(tmp_path / "none")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "no signed Content Credentials" in done.stdout


def test_watermark_off_in_the_brief(home, write, test_signer):
    _, out = _run(write, provenance="provenance: {watermark: false}")
    delivered = _only(out)
    assert marking.read(delivered) is None
    _, manifest, _ = cred.read(delivered, test_signer)
    assert "c2pa.watermarked" not in [a["action"] for a in cred.actions(manifest)]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_jpeg_and_webp_deliverables_are_signed_marked_and_tamper_evident(
    home, write, tmp_path, test_signer, fmt
):
    rgb = np.asarray(Image.open(io.BytesIO(_sample_png())).convert("RGB"))
    src = tmp_path / f"photo.{fmt.lower()}"
    Image.fromarray(rgb).save(src, fmt, quality=92)
    path = write(
        f"steps:\n  base: {{op: import, source: {src.name}}}\n"
        "  out: {op: export, input: [base], dir: out/}\n"
    )
    assert api.run_pipeline(path)["status"] == "done"
    delivered = _only(path.parent / "out")
    assert delivered.suffix == {"JPEG": ".jpg", "WEBP": ".webp"}[fmt]
    state, manifest, _ = cred.read(delivered, test_signer)
    assert state == "Trusted"
    assert [(i["title"], i["relationship"]) for i in manifest["ingredients"]] == [
        (src.name, "parentOf")
    ]
    assert cred.marking(delivered)["routeyard:Asset"]
    assert marking.read(delivered) is not None
    data = bytearray(delivered.read_bytes())
    data[int(len(data) * 0.8)] ^= 0x10
    bad = tmp_path / f"bad{delivered.suffix}"
    bad.write_bytes(bytes(data))
    assert cred.read(bad, test_signer)[0] == "Invalid"


def _sample_png() -> bytes:
    from routeyard.ops.importing import sample_png

    return sample_png("chelsea")


def test_a_stripped_reencoded_copy_still_points_back_to_its_lineage(home, write, tmp_path):
    _, out = _run(write)
    delivered = _only(out)
    copy = tmp_path / "reposted.jpg"
    Image.open(delivered).convert("RGB").save(copy, "JPEG", quality=70)  # metadata gone
    report = api.verify_file(copy, home=home)
    assert report["state"] == "unsigned" and report["c2pa"] is None and report["xmp"] is None
    assert report["store"]["lineage"]["step"] == "small"
    assert report["asset"].startswith(report["watermark"]["id"])


def test_verify_reads_an_export_made_before_content_credentials(tmp_path, home):
    from routeyard.credentials.record import embed

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buf, "PNG")
    old = tmp_path / "old.png"
    old.write_bytes(embed(buf.getvalue(), "image/png", {"asset": "abc123", "lineage": {"seed": 5}}))
    report = api.verify_file(old, home=home)
    assert report["state"] == "unsigned"
    assert report["legacy"] == {"asset": "abc123", "lineage": {"seed": 5}}


def test_verify_a_file_that_is_not_there_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "routeyard.cli", "verify", str(tmp_path / "nope.png")],
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "nope.png: file not found" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("alg", ["es256", "ps256", "ed25519"])
def test_credentials_init_signs_with_each_algorithm(tmp_path, monkeypatch, home, write, alg):
    folder = tmp_path / f"creds-{alg}"
    issued = authority.init(folder, alg=alg)
    assert oct(issued.signer_key.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ConfigError, match="already exists"):
        authority.init(folder, alg=alg)
    monkeypatch.setenv("ROUTEYARD_CREDENTIALS_DIR", str(folder))
    _, out = _run(write)
    state, manifest, _ = cred.read(_only(out), folder)
    assert state == "Trusted"
    assert manifest["signature_info"]["common_name"] == "routeyard development signer"
    assert "UNTRUSTED" in manifest["signature_info"]["issuer"]


def test_the_signer_from_the_environment_and_its_errors(tmp_path, monkeypatch, test_signer):
    key = (test_signer / "signer.key").read_bytes()
    monkeypatch.setenv("ROUTEYARD_C2PA_KEY", str(test_signer / "signer.key"))
    with pytest.raises(ConfigError, match="ROUTEYARD_C2PA_CERT is not set"):
        config.c2pa_signer()
    monkeypatch.setenv(
        "ROUTEYARD_C2PA_CERT", (test_signer / "signer.pem").read_text()
    )  # inline PEM
    signer = config.c2pa_signer()
    assert signer.key_pem == key and signer.source.startswith("ROUTEYARD_C2PA_KEY")
    assert "PRIVATE" not in repr(signer)
    monkeypatch.setenv("ROUTEYARD_C2PA_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(ConfigError, match=r"missing\.key"):
        config.c2pa_signer()


def test_the_signing_key_never_reaches_the_store_exports_or_logs(home, write, test_signer, caplog):
    caplog.set_level(logging.DEBUG)
    _, out = _run(write)
    key = (test_signer / "signer.key").read_bytes()
    body = b"".join(key.splitlines()[1:-1])[:40]  # a run of the key's base64
    for root in (home, out):
        for f in Path(root).rglob("*"):
            if f.is_file():
                assert body not in f.read_bytes().replace(b"\n", b""), f
    assert body.decode() not in caplog.text


def test_the_studio_asset_page_shows_the_exported_files_credentials(home, write):
    from fastapi.testclient import TestClient

    from routeyard.server.app import create_app

    run, out = _run(write)
    asset = run["steps"][-1]["inputs"][0]
    app = create_app(home=home, root=out.parent)
    with TestClient(app, base_url="http://127.0.0.1:8765", headers={"X-Routeyard": "1"}) as client:
        page = client.get(f"/assets/{asset}")
    assert page.status_code == 200
    assert "Content Credentials" in page.text and "valid, signer trusted" in page.text
    assert "c2pa.watermarked" in page.text and _only(out).name in page.text
