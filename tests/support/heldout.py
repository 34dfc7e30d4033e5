"""The held-out calibration suite: sources and defect generators in two splits.

Thresholds are fitted on the ``fit`` split and reported on the ``held``
split, and the two share neither source images nor defect generators:

- sources — fit: scikit-image's photographs; held: matplotlib's sample
  images (Grace Hopper, a product shot, a logo, terrain rendered by
  matplotlib's LightSource) and scenes drawn here (products on a table,
  posters with text, a face-like portrait card, gradients, flat design).
- defects — each class has two implementations, one per split: flicker as
  gain jumps (fit) and as gamma / white-balance jumps (held); boil as patch
  noise (fit) and as local warps with stale patches (held); liquefy as a
  swirl (fit) and as ripple and melt (held); blur as Gaussian (fit) and as
  motion blur and down-up sampling (held); noise as Gaussian (fit) and as
  chroma / salt-and-pepper noise (held); flat first frames as edge-
  preserving squeeze (fit) and as haze (held); colour casts as warm gains
  (fit) and as green / magenta tints (held).
- clean motion — fit: slow pans and zooms and the renderer's own parallax;
  held: fast pans, handheld shake, orbits, zoom-outs; encodes at CRF 18–32.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.support import calibration as cal

SIDE = 288


def _fit_side(rgb: np.ndarray, side: int = SIDE * 2) -> np.ndarray:
    h, w = rgb.shape[:2]
    f = side / max(h, w)
    out = cv2.resize(
        rgb, (round(w * f) // 2 * 2, round(h * f) // 2 * 2), interpolation=cv2.INTER_AREA
    )
    return np.ascontiguousarray(out[..., :3])


# ------------------------------------------------------------ sources
def fit_sources() -> dict[str, np.ndarray]:
    names = (
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "motorcycle",
        "camera",
        "immunohistochemistry",
        "hubble_deep_field",
    )
    return {f"skimage/{k}": _fit_side(v) for k, v in cal.photos(names).items()}


def held_sources() -> dict[str, np.ndarray]:
    import matplotlib.cbook as cbook
    from matplotlib.colors import LightSource

    out: dict[str, np.ndarray] = {}
    for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png"):
        with cbook.get_sample_data(name) as f:
            img = np.asarray(Image.open(f).convert("RGB"))
        out[f"mpl/{name.split('.')[0]}"] = _fit_side(img)
    dem = cbook.get_sample_data("jacksboro_fault_dem.npz")["elevation"]
    ls = LightSource(azdeg=315, altdeg=45)
    import matplotlib as mpl

    relief = ls.shade(dem, cmap=mpl.colormaps["gist_earth"], blend_mode="overlay")
    out["mpl/terrain"] = _fit_side((relief[..., :3] * 255).astype(np.uint8))
    rng = np.random.default_rng(7)
    out["drawn/product-table"] = _product(rng)
    out["drawn/poster"] = _poster("SUMMER DROP", (230, 80, 40), (250, 240, 220))
    out["drawn/portrait-card"] = _portrait(rng)
    out["drawn/gradient"] = _gradient()
    out["drawn/flat-design"] = _flat(rng)
    return out


def _font(size: int) -> ImageFont.FreeTypeFont:
    from routeyard.ops.fonts import find_font

    return ImageFont.truetype(str(find_font("DejaVu Sans Bold")), size)


def _grain(img: np.ndarray, rng: np.random.Generator, sigma: float = 4.0) -> np.ndarray:
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def _product(rng) -> np.ndarray:
    w, h = 576, 432
    img = Image.new("RGB", (w, h), (200, 190, 175))
    d = ImageDraw.Draw(img)
    for y in range(h // 2):  # a wall with a soft light falloff
        c = int(215 - 40 * y / (h / 2))
        d.line([(0, y), (w, y)], fill=(c, c - 8, c - 20))
    for y in range(h // 2, h):  # a wooden table with grain lines
        c = 120 + int(10 * math.sin(y * 0.7))
        d.line([(0, y), (w, y)], fill=(c + 40, c, c - 40))
    d.ellipse([170, 300, 410, 340], fill=(70, 55, 40))  # shadow
    d.rounded_rectangle([230, 140, 350, 320], 18, fill=(40, 110, 170))  # bottle
    d.rectangle([270, 100, 310, 140], fill=(30, 30, 30))
    d.rectangle([240, 200, 340, 260], fill=(240, 235, 220))
    d.text((290, 230), "AQUA", font=_font(22), fill=(20, 40, 90), anchor="mm")
    return _grain(np.asarray(img), rng)


def _poster(text: str, fg, bg) -> np.ndarray:
    img = Image.new("RGB", (432, 576), bg)
    d = ImageDraw.Draw(img)
    d.ellipse([66, 150, 366, 450], fill=(240, 180, 60))
    d.rectangle([0, 420, 432, 576], fill=(40, 60, 90))
    d.text((216, 80), text, font=_font(46), fill=fg, anchor="mm")
    d.text((216, 500), "JUNE 21", font=_font(30), fill=(250, 250, 250), anchor="mm")
    return np.asarray(img)


def _portrait(rng) -> np.ndarray:
    img = Image.new("RGB", (432, 576), (90, 110, 130))
    d = ImageDraw.Draw(img)
    d.ellipse([126, 120, 306, 340], fill=(225, 185, 160))  # face
    d.ellipse([165, 200, 195, 220], fill=(60, 40, 30))
    d.ellipse([237, 200, 267, 220], fill=(60, 40, 30))
    d.arc([180, 250, 252, 300], 20, 160, fill=(150, 60, 60), width=5)
    d.rectangle([96, 340, 336, 576], fill=(50, 50, 60))  # shoulders
    blurred = cv2.GaussianBlur(np.asarray(img), (0, 0), 1.2)
    return _grain(blurred, rng, 5)


def _gradient() -> np.ndarray:
    ys, xs = np.mgrid[0:432, 0:576].astype(np.float32)
    r = 255 * xs / 576
    g = 128 + 100 * np.sin(ys / 60)
    b = 255 - 255 * ys / 432
    return np.clip(np.dstack([r, g, b]), 0, 255).astype(np.uint8)


def _flat(rng) -> np.ndarray:
    img = Image.new("RGB", (576, 432), (245, 245, 240))
    d = ImageDraw.Draw(img)
    palette = [(230, 57, 70), (29, 53, 87), (69, 123, 157), (168, 218, 220), (241, 250, 238)]
    for _ in range(9):
        x, y = int(rng.integers(0, 500)), int(rng.integers(0, 360))
        s = int(rng.integers(40, 140))
        colour = palette[int(rng.integers(0, len(palette)))]
        if rng.random() < 0.5:
            d.rectangle([x, y, x + s, y + s // 2], fill=colour)
        else:
            d.ellipse([x, y, x + s, y + s], fill=colour)
    d.text((288, 216), "FLAT", font=_font(60), fill=(29, 53, 87), anchor="mm")
    return np.asarray(img)


# ------------------------------------------------------- clean motion
def _crop_path(rgb: np.ndarray, count: int, path) -> list[np.ndarray]:
    """Frames cut from ``rgb`` along ``path(t) -> (zoom, dx, dy)`` (fractions of the frame)."""
    h, w = rgb.shape[:2]
    ow, oh = int(w / 1.5) // 2 * 2, int(h / 1.5) // 2 * 2
    out = []
    for i in range(count):
        z, dx, dy = path(i / max(1, count - 1))
        cx, cy = w / 2 + dx * w, h / 2 + dy * h
        s = z
        m = np.float32([[s, 0, ow / 2 - s * cx], [0, s, oh / 2 - s * cy]])
        out.append(
            cv2.warpAffine(rgb, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        )
    return out


def fit_moves(rgb: np.ndarray, count: int) -> dict[str, list[np.ndarray]]:
    return {
        "slow-pan": _crop_path(rgb, count, lambda t: (1.0, -0.08 + 0.16 * t, 0.0)),
        "slow-zoom": _crop_path(rgb, count, lambda t: (1.0 + 0.25 * t, 0.0, 0.0)),
        "parallax-dolly": cal.parallax_clip(rgb, "dolly-in", count, side=SIDE),
    }


def held_moves(
    rgb: np.ndarray, count: int, rng: np.random.Generator
) -> dict[str, list[np.ndarray]]:
    shake = rng.normal(0, 1, (count, 2)).cumsum(0) * 0.002
    return {
        "fast-pan": _crop_path(rgb, count, lambda t: (1.0, -0.15 + 0.30 * t, 0.02 * t)),
        "handheld": _crop_path(
            rgb, count, lambda t: (1.02, *shake[min(count - 1, round(t * (count - 1)))])
        ),
        "zoom-out": _crop_path(rgb, count, lambda t: (1.3 - 0.3 * t, 0.01, 0.0)),
        "orbit": cal.parallax_clip(rgb, "orbit", count, side=SIDE),
    }


# ------------------------------------------------------------ defects
def gamma_flicker(clip, strength, rng, fraction=0.03):
    """Gamma or white-balance jumps on a few frames (held split)."""
    out = [f.copy() for f in clip]
    for i in cal._picked(len(clip), fraction, rng):
        f = out[i].astype(np.float32) / 255
        if rng.random() < 0.5:
            g = 1 + 0.35 * strength * rng.choice([-1, 1])
            f = f**g
        else:
            f = f * np.array([1 + 0.15 * strength, 1, 1 - 0.15 * strength], np.float32)
        out[i] = np.clip(f * 255, 0, 255).astype(np.uint8)
    return out


def warp_boil(clip, strength, rng, fraction=0.04):
    """Local warps and stale patches on a few frames: texture that boils (held split)."""
    out = [f.copy() for f in clip]
    h, w = clip[0].shape[:2]
    for i in cal._picked(len(clip), fraction, rng):
        ph, pw = h // 3, w // 3
        y, x = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
        if rng.random() < 0.5:
            ys, xs = np.mgrid[0:ph, 0:pw].astype(np.float32)
            amp = 4.0 * strength
            mx = xs + amp * np.sin(ys / 5 + rng.random() * 6)
            my = ys + amp * np.cos(xs / 5 + rng.random() * 6)
            patch = np.ascontiguousarray(out[i][y : y + ph, x : x + pw])
            out[i][y : y + ph, x : x + pw] = cv2.remap(
                patch, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        else:  # a stale patch from several frames back
            j = max(0, i - 8)
            src = clip[j][y : y + ph, x : x + pw].astype(np.float32)
            cur = out[i][y : y + ph, x : x + pw].astype(np.float32)
            out[i][y : y + ph, x : x + pw] = np.clip(cur + strength * (src - cur), 0, 255).astype(
                np.uint8
            )
    return out


def ripple_melt(clip, strength, rng):
    """A ripple that spreads, or the lower frame melting downward (held split)."""
    h, w = clip[0].shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = float(rng.uniform(0.25, 0.75) * w), float(rng.uniform(0.25, 0.75) * h)
    melt = rng.random() < 0.5
    out = []
    for i, frame in enumerate(clip):
        t = i / max(1, len(clip) - 1)
        a = strength * math.sin(math.pi * t)
        if melt:
            sag = (
                a
                * 0.08
                * h
                * np.clip((ys - 0.3 * h) / (0.7 * h), 0, 1)
                * (0.5 + 0.5 * np.sin(xs / 23))
            )
            mx, my = xs, ys - sag
        else:
            r = np.hypot(xs - cx, ys - cy)
            d = a * 6.0 * np.sin(r / 9 - 10 * t) * np.exp(-r / (0.4 * min(h, w)))
            mx, my = xs + d * (xs - cx) / (r + 1), ys + d * (ys - cy) / (r + 1)
        out.append(
            cv2.remap(
                frame,
                mx.astype(np.float32),
                my.astype(np.float32),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
        )
    return out


def motion_blur(rgb, strength):
    """Motion blur or down-up sampling (held split)."""
    if strength <= 0:
        return rgb.copy()
    k = max(3, int(15 * strength) | 1)
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1 / k
    smeared = cv2.filter2D(rgb, -1, kernel)
    h, w = rgb.shape[:2]
    f = 1 / (1 + 2.5 * strength)
    small = cv2.resize(
        smeared, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def chroma_noise(rgb, strength, rng):
    """Chroma noise plus salt and pepper (held split)."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 1:] += rng.normal(0, 14 * strength, lab[..., 1:].shape)
    lab[..., 0] += rng.normal(0, 10 * strength, lab[..., 0].shape)
    out = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    salt = rng.random(rgb.shape[:2]) < 0.01 * strength
    out[salt] = rng.choice([0, 255], size=(int(salt.sum()), 1))
    return out


def haze(rgb, strength):
    """Atmospheric haze and softening: a flat, milky first frame (held split)."""
    if strength <= 0:
        return rgb.copy()
    veil = np.full_like(rgb, 200, dtype=np.float32)
    out = rgb.astype(np.float32) * (1 - 0.6 * strength) + veil * 0.6 * strength
    out = cv2.GaussianBlur(out, (0, 0), 0.1 + 2.0 * strength)
    return np.clip(out, 0, 255).astype(np.uint8)


def tint(rgb, strength, rng):
    """A green or magenta tint (held split)."""
    g = 0.14 * strength * (1 if rng.random() < 0.5 else -1)
    gain = np.array([1 - g / 2, 1 + g, 1 - g / 2], np.float32)
    return np.clip(rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def write(path: Path, clip, crf: int = 18, fps: int = 24) -> Path:
    from routeyard.media.video import Mp4Writer

    h, w = clip[0].shape[:2]
    with Mp4Writer(path, w, h, fps, crf=crf) as out:
        for frame in clip:
            out.write(frame)
    return path
