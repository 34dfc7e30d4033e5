"""An invisible watermark: a short asset id carried by the picture's low frequencies.

Why this layer: a C2PA manifest lives in the file's metadata, and most
platforms strip metadata on upload. The watermark lives in the pixels, so a
re-encoded, resized or cropped copy still points back to its lineage.

Method (DWT-DCT with quantisation index modulation, after the
``invisible-watermark`` library's ``dwtDct``, with no model weights): the
Haar DWT's LL band at ``level`` is cut into 8x8 blocks (``8 * 2**level``
pixels); in each block a few low DCT coefficients are quantised onto one of
two interleaved lattices (step ``step``), chosen by the bit the block carries.
The bits form a tile of ``TILE`` x ``TILE`` blocks (a sync word, the 40-bit id
and its CRC-16), repeated over the whole picture, so every tile votes for
every bit. A crop moves the grid: the reader tries every offset within a
block and every phase of the tile. A resize changes the scale: the reader
tries common factors. JPEG and H.264 blur the coefficients: the votes outlast
them, and a video's frames vote together.

A read counts only when the sync word agrees, the CRC matches, and the votes
are far from chance (mean |z| per bit at least ``MIN_Z``): noise gives about
0.8, so an unmarked picture never reads as marked.

Haar LL followed by an orthonormal DCT is linear and orthonormal, so each
coefficient is the inner product of a pixel block with a fixed kernel.
Embedding adds ``(target - current) * kernel`` to the block, which moves that
coefficient and no other; reading correlates the luma with the kernels once
(``cv2.filter2D``) and samples the result at every candidate offset.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

TILE = 8  # blocks per tile side: TILE * TILE bits
ID_BITS = 40
CRC_BITS = 16
SYNC_BITS = TILE * TILE - ID_BITS - CRC_BITS
SYNC_ERRORS = 0
CHASE = 4  # least certain bits tried both ways: 16 CRC trials, ~5e-4 of a wrong id at worst
# Luma at or beyond these is clipped; a block with MAX_CLIPPED of it abstains.
CLIP_LOW, CLIP_HIGH, MAX_CLIPPED = 6.0, 249.0, 0.25
MIN_Z = 2.5
# The factors a reader undoes before giving up: a copy at half, two thirds,
# three quarters or four fifths of the size, or enlarged by half or double.
SCALES: tuple[float, ...] = (1.0, 2.0, 1.5, 4 / 3, 1.25, 2 / 3, 0.5)

_SYNC = np.random.default_rng(0x5EED).integers(0, 2, SYNC_BITS).astype(np.uint8)


@dataclass(frozen=True)
class Scheme:
    """Where and how hard the mark is written. The default was chosen by
    benchmarks/bench_watermark.py: the best read-back after JPEG 70 and
    H.264 CRF 28 at a PSNR of at least 40 dB."""

    level: int = 1
    coeffs: tuple[tuple[int, int], ...] = ((0, 1), (1, 0))
    step: float = 80.0

    @property
    def block(self) -> int:
        return 8 * 2**self.level


DEFAULT = Scheme()


def _dct8() -> np.ndarray:
    n = np.arange(8)
    m = np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 16) * np.sqrt(2 / 8)
    m[0] /= np.sqrt(2)
    return m


_D = _dct8()


def kernel(u: int, v: int, level: int = 1) -> np.ndarray:
    """The pixel kernel (8 * 2**level square) of DCT coefficient (u, v) of an
    8x8 block of the Haar LL band at ``level``: unit norm."""
    n = 2**level
    return (np.kron(np.outer(_D[u], _D[v]), np.ones((n, n))) / n).astype(np.float32)


@dataclass(frozen=True)
class Mark:
    """A watermark read back: the id, how clearly, and where it was found."""

    short_id: str
    z: float  # mean |z| of the votes per bit: ~0.8 for noise, 10+ untouched
    scale: float
    offset: tuple[int, int]
    sync_errors: int

    def to_dict(self) -> dict:
        return {
            "id": self.short_id,
            "z": round(self.z, 2),
            "scale": round(self.scale, 3),
            "offset": list(self.offset),
        }


def short_id(asset_id: str) -> str:
    """The 10 hex digits (40 bits) of an asset id that the mark carries: one
    chance in 10^12 that two assets of a store share them."""
    return asset_id[: ID_BITS // 4]


def _crc16(raw: bytes) -> bytes:
    return (zlib.crc32(raw) & 0xFFFF).to_bytes(2, "big")


def payload(sid: str) -> np.ndarray:
    """The tile's bits: sync word, id, CRC-16 of the id."""
    raw = bytes.fromhex(sid)
    if len(raw) * 8 != ID_BITS:
        raise ValueError(f"watermark id must be {ID_BITS // 4} hex digits, got {sid!r}")
    bits = np.unpackbits(np.frombuffer(raw + _crc16(raw), dtype=np.uint8))
    return np.concatenate([_SYNC, bits]).astype(np.uint8)


def luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def embed(rgb: np.ndarray, sid: str, scheme: Scheme = DEFAULT) -> np.ndarray:
    """``rgb`` (H, W, 3 uint8) with the id marked into its luma. The same
    change is added to R, G and B, which moves luma by exactly that change and
    leaves the chroma alone. A picture under one block is returned unchanged."""
    b = scheme.block
    h, w = rgb.shape[:2]
    nby, nbx = h // b, w // b
    if nby == 0 or nbx == 0:
        return rgb
    bits = payload(sid).reshape(TILE, TILE)
    block_bits = bits[np.arange(nby)[:, None] % TILE, np.arange(nbx)[None, :] % TILE]
    y = luma(rgb)[: nby * b, : nbx * b]
    blocks = y.reshape(nby, b, nbx, b).transpose(0, 2, 1, 3)
    change = np.zeros_like(blocks)
    step, half = scheme.step, scheme.step / 2
    for u, v in scheme.coeffs:
        k = kernel(u, v, scheme.level)
        c = np.einsum("abij,ij->ab", blocks, k)
        target = step * np.round((c - block_bits * half) / step) + block_bits * half
        change += (target - c)[..., None, None] * k
    delta = np.zeros((h, w), np.float32)
    delta[: nby * b, : nbx * b] = change.transpose(0, 2, 1, 3).reshape(nby * b, nbx * b)
    out = rgb.astype(np.float32) + delta[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def soft_map(y: np.ndarray, scheme: Scheme = DEFAULT) -> np.ndarray:
    """Per pixel position: the summed votes of the block starting there for
    bit 0 (+1 per coefficient) or bit 1 (-1). Only positions whose block fits."""
    b = scheme.block
    h, w = y.shape
    out = np.zeros((h - b + 1, w - b + 1), np.float32)
    for u, v in scheme.coeffs:
        k = kernel(u, v, scheme.level)
        c = cv2.filter2D(y, cv2.CV_32F, k, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
        out += np.cos(2 * np.pi * c[: h - b + 1, : w - b + 1] / scheme.step)
    return out * headroom(y, b)


def headroom(y: np.ndarray, block: int) -> np.ndarray:
    """Per block position, 1 where the mark could be written and 0 where the
    block is clipped (near black or white): there the embedder could not
    reach its target, and the block's vote is the picture's, not the mark's,
    the same in every frame. Such blocks abstain."""
    clipped = ((y <= CLIP_LOW) | (y >= CLIP_HIGH)).astype(np.float32)
    share = cv2.boxFilter(
        clipped, -1, (block, block), anchor=(0, 0), normalize=True, borderType=cv2.BORDER_CONSTANT
    )
    h, w = y.shape
    share = share[: h - block + 1, : w - block + 1]
    return np.clip(1.0 - share / MAX_CLIPPED, 0.0, 1.0)


# every cyclic phase of the tile, as gather indices into the folded votes
_PHASES = np.array(
    [
        np.roll(np.arange(TILE * TILE).reshape(TILE, TILE), (oy, ox), axis=(0, 1)).ravel()
        for oy in range(TILE)
        for ox in range(TILE)
    ]
)
_SYNC_SIGN = 1.0 - 2.0 * _SYNC.astype(np.float32)  # bit 0 -> +1


def _search(soft: np.ndarray, votes_per_block: int, scale: float, block: int) -> Mark | None:
    best: Mark | None = None
    for dy in range(block):
        for dx in range(block):
            grid = soft[dy::block, dx::block]
            nby, nbx = grid.shape
            if nby == 0 or nbx == 0:
                continue
            rows = (np.arange(nby) % TILE)[:, None]
            cols = (np.arange(nbx) % TILE)[None, :]
            folded = np.zeros((TILE, TILE))
            counts = np.zeros((TILE, TILE))
            np.add.at(folded, (rows, cols), grid)
            np.add.at(counts, (rows, cols), 1.0)
            # a vote (cos of a uniform phase) has variance 1/2 under noise
            z = folded / np.sqrt(np.maximum(counts * votes_per_block, 1) / 2)
            if np.abs(z).mean() < MIN_Z:
                continue
            votes = z.ravel()[_PHASES]  # (phases, bits)
            agree = votes[:, :SYNC_BITS] @ _SYNC_SIGN
            for p in np.argsort(agree)[::-1][:2]:
                found = _decode(votes[p], scale, (dy, dx))
                if found and (best is None or found.z > best.z):
                    best = found
    return best


def _decode(votes: np.ndarray, scale: float, offset: tuple[int, int]) -> Mark | None:
    """The id, when the sync word agrees and the CRC matches, trying also
    every flip of the ``CHASE`` least certain id/CRC bits (Chase decoding: a
    clip re-encoded hard leaves a bit or two wrong where the picture fought
    the mark, and those are the bits the votes were least sure of)."""
    bits = (votes < 0).astype(np.uint8)
    errors = int(np.sum(bits[:SYNC_BITS] != _SYNC))
    if errors > SYNC_ERRORS:
        return None
    body = bits[SYNC_BITS:].copy()
    weakest = np.argsort(np.abs(votes[SYNC_BITS:]))[:CHASE]
    for flips in range(2**CHASE):
        trial = body.copy()
        for i, pos in enumerate(weakest):
            if flips >> i & 1:
                trial[pos] ^= 1
        raw = np.packbits(trial[:ID_BITS]).tobytes()
        if _crc16(raw) == np.packbits(trial[ID_BITS:]).tobytes():
            return Mark(raw.hex(), float(np.abs(votes).mean()), scale, offset, errors)
    return None


def read(
    frames: Iterable[np.ndarray],
    scheme: Scheme = DEFAULT,
    *,
    scales: Sequence[float] = SCALES,
) -> Mark | None:
    """The mark in one picture or in a video's frames (their votes summed),
    or None. Each scale is tried in turn, the most likely first."""
    lumas = [luma(f) for f in frames]
    if not lumas:
        return None
    for scale in scales:
        total: np.ndarray | None = None
        used = 0
        for y in lumas:
            if scale != 1.0:
                y = cv2.resize(y, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            if min(y.shape) < scheme.block:
                continue
            soft = soft_map(y, scheme)
            used += 1
            if total is None:
                total = soft
            else:
                hh, ww = min(total.shape[0], soft.shape[0]), min(total.shape[1], soft.shape[1])
                total = total[:hh, :ww] + soft[:hh, :ww]
        if total is None:
            continue
        found = _search(total, used * len(scheme.coeffs), scale, scheme.block)
        if found is not None:
            return found
    return None
