"""Find a real font file by family name, on any machine, offline.

Exact text needs a real outline font. Matplotlib's wheel ships the DejaVu
families (free licence, wide Unicode coverage), so a fresh install always
has ``DejaVu Sans`` and friends; system and user font folders are searched
too, and a ``font_file`` path in a step always wins. Names match loosely:
"DejaVu Sans Bold", "dejavusans-bold" and "DejaVuSans-Bold.ttf" are the same.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from PIL import ImageFont

from routeyard import config

DEFAULT_FONT = "DejaVu Sans Bold"
_EXTENSIONS = {".ttf", ".otf", ".ttc"}


def font_dirs() -> list[Path]:
    dirs = []
    try:
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:  # pragma: no cover - matplotlib is a core dependency
        pass
    home = Path.home()
    dirs += [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        home / ".fonts",
        home / ".local/share/fonts",
        Path("/Library/Fonts"),
        home / "Library/Fonts",
        Path(config.env("WINDIR") or "C:/Windows") / "Fonts",
    ]
    return [d for d in dirs if d.is_dir()]


def _key(name: str) -> str:
    stem = re.sub(r"\.(ttf|otf|ttc)$", "", name.lower())
    return re.sub(r"[^a-z0-9]", "", stem.replace("regular", "").replace("book", ""))


@functools.cache
def _index() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in font_dirs():
        for path in sorted(d.rglob("*")):
            if path.suffix.lower() in _EXTENSIONS:
                found.setdefault(_key(path.name), path)
    return found


def find_font(name: str) -> Path | None:
    """The file for a family/style name, or ``None``."""
    index = _index()
    key = _key(name)
    if key in index:
        return index[key]
    for path in index.values():  # the font's own family and style names
        try:
            family, style = ImageFont.truetype(str(path), 12).getname()
        except OSError:
            continue
        if _key(f"{family} {style}") == key or (
            _key(family or "") == key and style in ("Regular", "Book")
        ):
            return path
    return None


def available(limit: int = 8) -> list[str]:
    """A few font names that resolve here, for error hints."""
    names = sorted({p.stem for p in _index().values()})
    preferred = [n for n in names if n.startswith("DejaVu")]
    return (preferred or names)[:limit]
