"""Unsafe media is refused with a clear error before it enters the store."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from routeyard.errors import MediaError
from routeyard.media import probe_bytes


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_truncated_image_is_refused():
    data = png(Image.new("RGB", (64, 64), (200, 10, 10)))
    with pytest.raises(MediaError, match=r"x\.png: not a readable image"):
        probe_bytes(data[: len(data) // 2], source="x.png")


def test_decompression_bomb_is_refused():
    bomb = png(Image.new("1", (12_000, 12_000)))  # 144 MP of zeros: tiny file, huge decode
    assert len(bomb) < 200_000
    with pytest.raises(MediaError, match="above the safe limit"):
        probe_bytes(bomb, source="bomb.png")


def test_not_an_image():
    with pytest.raises(MediaError, match="not a recognised image format"):
        probe_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30, source="fake.png")


def test_facts_of_a_good_image_and_json():
    facts = probe_bytes(png(Image.new("RGB", (30, 20))), source="ok.png")
    assert (facts.kind, facts.mime, facts.width, facts.height) == ("image", "image/png", 30, 20)
    assert probe_bytes(b'{"a": 1}', source="r.json").kind == "json"
