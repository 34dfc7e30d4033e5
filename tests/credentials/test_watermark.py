"""The invisible watermark survives what platforms do to a file, and costs
under a PSNR of 40 dB; unmarked pictures never read as marked."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from routeyard.credentials import marking, watermark
from tests.support import calibration as cal
from tests.support import heldout as H

SID = "0fa1c0ffee"


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * np.log10(255**2 / np.mean((a.astype(float) - b) ** 2))


def _jpeg(rgb: np.ndarray, q: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(buf).convert("RGB"))


@pytest.fixture(scope="module")
def pictures() -> dict[str, np.ndarray]:
    photos = cal.photos(("astronaut", "coffee"))
    drawn = {k: v for k, v in H.held_sources().items() if k in ("drawn/poster", "drawn/gradient")}
    return {**photos, **drawn}


def test_marked_pictures_read_back_after_jpeg_resize_and_crop(pictures):
    for name, rgb in pictures.items():
        marked = watermark.embed(rgb, SID)
        assert _psnr(rgb, marked) >= 40, name
        h, w = marked.shape[:2]
        copies = {
            "as is": marked,
            "jpeg 70": _jpeg(marked, 70),
            "half": cv2.resize(marked, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
            "crop 10 %": marked[
                round(h * 0.05) : round(h * 0.95), round(w * 0.05) : round(w * 0.95)
            ],
        }
        for what, copy in copies.items():
            found = watermark.read([copy])
            assert found is not None and found.short_id == SID, (name, what)
        assert watermark.read([copies["half"]]).scale == 2.0
        assert watermark.read([copies["crop 10 %"]]).offset != (0, 0)


def test_unmarked_pictures_and_other_ids_never_read_as_this_mark(pictures):
    for rgb in pictures.values():
        assert watermark.read([rgb]) is None
        assert watermark.read([_jpeg(rgb, 70)]) is None
    other = watermark.read([watermark.embed(pictures["coffee"], "123456789a")])
    assert other is not None and other.short_id == "123456789a"


def _mp4(frames: list[np.ndarray], crf: int, path) -> None:
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": str(crf), "preset": "veryfast"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f)):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def test_a_delivered_video_reads_back_after_an_h264_reencode_at_crf_28(tmp_path):
    """What export writes (every frame marked, CRF 16), re-encoded the way a
    platform would (CRF 28): the frames vote together and the id comes back."""
    src = cv2.resize(cal.photos(("coffee",))["coffee"], (960, 720))
    clip = H._crop_path(src, 48, lambda t: (1.0, -0.05 + 0.1 * t, 0.0))  # a slow pan, 640x480
    plain = tmp_path / "plain.mp4"
    _mp4(clip, 16, plain)
    delivered = tmp_path / "delivered.mp4"
    delivered.write_bytes(marking.apply(plain.read_bytes(), "video/mp4", SID))
    with av.open(str(delivered)) as c:
        assert c.streams.video[0].frames == 48
        assert float(c.streams.video[0].average_rate) == 24.0
    frames, _ = marking.frames_of(delivered)
    assert _psnr(clip[10], frames[10]) > 30  # the re-encode, not the mark, sets this
    reencoded = tmp_path / "platform.mp4"
    _mp4(frames, 28, reencoded)
    found = marking.read(reencoded)
    assert found is not None and found.short_id == SID
    assert marking.read(plain) is None


def test_marking_a_file_keeps_its_format_and_alpha():
    rgba = np.zeros((96, 128, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = np.linspace(0, 255, 128, dtype=np.uint8)[None, :]
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    out = Image.open(io.BytesIO(marking.apply(buf.getvalue(), "image/png", SID)))
    assert out.format == "PNG" and out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[..., 3], rgba[..., 3])
