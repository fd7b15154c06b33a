"""Slide-ready images with matplotlib: a CJK font, the slide size, atomic saving.

Chinese needs a CJK font, which matplotlib does not ship. On Debian and
Ubuntu install ``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``; it
gives "Noto Sans CJK SC"); on Windows and macOS the system's Microsoft YaHei,
SimHei or PingFang SC are found. Without one every Chinese character would
be drawn as an empty box, so :func:`cjk_font` refuses instead, naming the
package to install.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import BackendError
from ..io import atomic_path

__all__ = ["CJK_FAMILIES", "SLIDE_INCHES", "MissingFontError", "cjk_font", "figure_context", "save_figure"]

#: Fonts tried in order; the first is Debian's fonts-noto-cjk.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans CJK JP")
#: A 16:9 slide (PowerPoint's default widescreen size), in inches.
SLIDE_INCHES = (40 / 3, 7.5)
#: 150 dpi: a 2000 × 1125 PNG, sharp on a projector and small enough to mail.
DPI = 150


class MissingFontError(BackendError):
    """No CJK font is installed: images would show boxes instead of Chinese."""


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The family name of an installed CJK font, or :class:`MissingFontError` saying what to install."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise MissingFontError("no CJK font found for the images (Chinese would show as boxes); install one: "
                           "on Debian/Ubuntu `apt-get install fonts-noto-cjk`, then remove matplotlib's font cache "
                           "(~/.cache/matplotlib) if it was built before")


@contextlib.contextmanager
def figure_context() -> Iterator[None]:
    """matplotlib settings for every briefing image (non-interactive backend, CJK font, glyphs as paths in SVG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rc: dict[str, Any] = {"font.family": "sans-serif", "font.sans-serif": [cjk_font(), "DejaVu Sans"],
                          "axes.unicode_minus": False, "svg.fonttype": "path", "svg.hashsalt": "consortia",
                          "figure.dpi": DPI, "savefig.dpi": DPI}
    with plt.rc_context(rc):
        yield


def save_figure(fig: Any, path: str | Path, fmt: str) -> Path:
    """Save ``fig`` as ``fmt`` (png or svg) atomically; SVG keeps glyphs as paths so it needs no font to show."""
    path = Path(path)
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return path
