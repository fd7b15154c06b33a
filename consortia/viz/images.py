"""Slide-ready images with matplotlib: a CJK font, the slide size, atomic saving.

Chinese needs a CJK font, which matplotlib does not ship. On Debian and
Ubuntu install ``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``; it
gives "Noto Sans CJK SC"); on Windows and macOS the system's Microsoft YaHei,
SimHei or PingFang SC are found. Without one every Chinese character would
be drawn as an empty box, so :func:`cjk_font` refuses instead, naming the
package to install.

Labels come from registry spreadsheets, where a pasted name can carry a line
separator (U+2028), a control character or a zero-width mark. No font has a
glyph for those, matplotlib would warn on standard error for each one, and
they mean nothing on a slide: :func:`plain_label` turns each run of them into
one space. Any other glyph the fonts lack (an emoji in a name) is drawn as a
box without a warning: the HTML pages carry every name as typed.
"""

from __future__ import annotations

import contextlib
import unicodedata
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import BackendError
from ..io import atomic_path

__all__ = ["CJK_FAMILIES", "SLIDE_INCHES", "MissingFontError", "cjk_font", "figure_context", "plain_label", "save_figure"]

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


#: Unicode categories no font draws: controls, format characters (zero-width marks, bidi controls),
#: line and paragraph separators, and lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def plain_label(text: object) -> str:
    """``text`` as a label matplotlib can draw: each run of control, format or separator
    characters (``\\n``, U+2028, a zero-width space …) becomes one space, and the ends are trimmed."""
    s = str(text)
    if s.isprintable():  # nearly every name: no character to look at
        return s
    out: list[str] = []
    for ch in s:
        if unicodedata.category(ch) in _HIDDEN:
            if out and out[-1] != " ":
                out.append(" ")
        else:
            out.append(ch)
    return "".join(out).strip()


@contextlib.contextmanager
def figure_context() -> Iterator[None]:
    """matplotlib settings for every briefing image (non-interactive backend, CJK font, glyphs as paths in SVG,
    no warning for a missing glyph); figures must be drawn and saved inside it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rc: dict[str, Any] = {"font.family": "sans-serif", "font.sans-serif": [cjk_font(), "DejaVu Sans"],
                          "axes.unicode_minus": False, "svg.fonttype": "path", "svg.hashsalt": "consortia",
                          "figure.dpi": DPI, "savefig.dpi": DPI}
    with plt.rc_context(rc), warnings.catch_warnings():
        # A glyph the fonts lack is drawn as a box; the warning would reach the user's terminal, naming our source.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


def save_figure(fig: Any, path: str | Path, fmt: str) -> Path:
    """Save ``fig`` as ``fmt`` (png or svg) atomically; SVG keeps glyphs as paths so it needs no font to show."""
    path = Path(path)
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return path
