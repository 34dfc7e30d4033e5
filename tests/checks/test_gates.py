"""Each gate tells a clean item from one with its defect, and says so clearly on bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from routeyard.checks import check
from routeyard.ops.base import OpInputError
from tests.ocr import needs_tesseract
from tests.support import calibration as cal


@pytest.fixture(scope="module")
def photo():
    return cal.photos(("astronaut",))["astronaut"]


def save(tmp_path, name, rgb):
    path = tmp_path / name
    Image.fromarray(rgb).save(path)
    return path


def test_first_frame_flattened_scores_lower_and_fails(tmp_path, photo):
    clean = check("first_frame", save(tmp_path, "a.png", photo))
    flat = check("first_frame", save(tmp_path, "f.png", cal.flatten(photo, 1.0)))
    assert clean.passed and not flat.passed
    assert clean.score - flat.score > 0.3
    assert flat.details["failing"] and clean.plot_png()[:4] == b"\x89PNG"


def test_temporal_flags_flicker_and_pops_not_a_smooth_move(tmp_path, photo):
    rng = np.random.default_rng(0)
    clip = cal.camera_clip(photo, 48, side=240)
    clean = check("temporal", cal.write_clip(tmp_path / "c.mp4", clip))
    flick = check("temporal", cal.write_clip(tmp_path / "f.mp4", cal.flicker(clip, 0.6, rng)))
    pop = check("temporal", cal.write_clip(tmp_path / "p.mp4", cal.popping(clip, 0.6, rng)))
    assert clean.passed and clean.score > flick.score + 0.3 and clean.score > pop.score + 0.3
    assert not flick.passed and "flicker" in flick.message
    # a popped patch is also a local lightness jump along the motion: either
    # sub-score may be the worst, but popping must be seen
    assert not pop.passed and pop.details["sub_scores"]["pops"] < 0.75
    assert len(clean.to_dict()["per_frame"]["values"]) == 47


def test_temporal_reports_vbench_flickering_exactly(tmp_path, photo):
    """On a static clip, VBench's temporal flickering is plain pixel arithmetic: ours must equal it."""
    from routeyard.media.video import read_frames

    rng = np.random.default_rng(1)
    still = cal.camera_clip(photo, 1, side=240)[0]
    clip = [
        np.clip(still * (1 + rng.uniform(-0.02, 0.02)), 0, 255).astype(np.uint8) for _ in range(16)
    ]
    path = cal.write_clip(tmp_path / "s.mp4", clip)
    frames = [f.astype(np.float64) for f in read_frames(path, where="t")]
    mae = np.mean([np.abs(a - b).mean() for a, b in itertools.pairwise(frames)])
    result = check("temporal", path)
    assert result.details["vbench_static"] is True
    assert result.details["vbench_temporal_flickering"] == pytest.approx(
        (255 - mae) / 255, abs=1e-6
    )


def test_background_flags_a_liquefying_wall(tmp_path, photo):
    clip = cal.parallax_clip(photo, "pan-left", 32, side=240, subject=False)
    melted = cal.liquefy(clip, 1.0, np.random.default_rng(2))
    clean = check("background", cal.write_clip(tmp_path / "c.mp4", clip))
    bad = check("background", cal.write_clip(tmp_path / "m.mp4", melted))
    assert clean.passed, clean.message
    assert not bad.passed and "deforms" in bad.message
    assert bad.heatmap is not None and bad.heatmap.max() > clean.heatmap.max()


def test_identity_catches_a_swapped_face(tmp_path, photo):
    pytest.importorskip("dlib")
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        other = np.asarray(Image.open(f).convert("RGB").resize((512, 512)))
    ref = save(tmp_path, "ref.png", photo)
    frames = [photo] * 10 + [other] * 2
    clip = cal.write_clip(tmp_path / "v.mp4", frames)
    same = check("identity", cal.write_clip(tmp_path / "s.mp4", [photo] * 6), ref=ref)
    swapped = check("identity", clip, ref=ref)
    assert same.passed and same.score == 1.0
    assert not swapped.passed and swapped.details["drifted_frames"]
    none = check(
        "identity", save(tmp_path, "wall.png", np.full((200, 200, 3), 128, np.uint8)), ref=ref
    )
    assert none.status == "not_applicable" and none.score is None


@needs_tesseract
def test_typography_exact_text_passes_and_one_wrong_letter_fails(tmp_path):
    from matplotlib import font_manager
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans:bold"), 64)

    def card(text):
        img = Image.new("RGB", (700, 160), (240, 240, 235))
        ImageDraw.Draw(img).text((30, 40), text, font=font, fill=(20, 20, 20))
        return save(tmp_path, f"{text}.png", np.asarray(img))

    good = check("typography", card("SUMMER DROP"), text="SUMMER DROP")
    typo = check("typography", card("SUMMER DRIP"), text="SUMMER DROP")
    assert good.passed and good.details["exact_match"]
    assert not typo.passed and 0 < typo.details["cer"] <= 0.2
    blank = check(
        "typography", save(tmp_path, "b.png", np.full((100, 300, 3), 200, np.uint8)), text="SALE"
    )
    assert not blank.passed and "not found" in blank.message


def test_technical_blur_noise_and_undersize(tmp_path, photo):
    clean = check("technical", save(tmp_path, "a.png", photo))
    assert clean.passed
    assert not check("technical", save(tmp_path, "b.png", cal.blur(photo, 0.6))).passed
    noisy = check(
        "technical", save(tmp_path, "n.png", cal.noise(photo, 0.6, np.random.default_rng(0)))
    )
    assert not noisy.passed and "noisy" in noisy.message
    small = check("technical", save(tmp_path, "a2.png", photo), deliver="fhd")
    assert not small.passed and "undersized" in small.message


def test_series_color_finds_the_cast_image(tmp_path, photo):
    series = [
        save(tmp_path, f"s{i}.png", photo[i * 8 : 400 + i * 8, i * 8 : 400 + i * 8])
        for i in range(4)
    ]
    assert check("series_color", series).passed
    series.append(save(tmp_path, "warm.png", cal.colour_cast(photo[:400, :400], 0.6)))
    result = check("series_color", series)
    assert not result.passed and result.details["worst"] == "warm.png"


def test_series_color_sees_a_cast_that_empties_the_neutral_set(tmp_path):
    # The rocket's few neutral pixels leave the chroma < 12 set under a warm
    # shift, so QUALITY.md's neutral-pixel cast measured almost nothing (ΔE 1.2).
    rocket = cal.photos(("rocket",))["rocket"]
    series = [
        save(tmp_path, f"r{i}.png", rocket[i * 8 : 400 + i * 8, i * 8 : 400 + i * 8])
        for i in range(4)
    ]
    series.append(save(tmp_path, "warm.png", cal.colour_cast(rocket[:400, :400], 0.5)))
    result = check("series_color", series)
    assert not result.passed and result.details["worst"] == "warm.png"


def test_bad_input_is_clear(tmp_path, photo):
    one = cal.write_clip(tmp_path / "one.mp4", [photo[:256, :256]])
    assert check("temporal", one).status == "not_applicable"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(OpInputError, match="empty"):
        check("temporal", empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    with pytest.raises(OpInputError):
        check("background", junk)
    assert check("prompt", save(tmp_path, "a.png", photo)).status == "unknown"
