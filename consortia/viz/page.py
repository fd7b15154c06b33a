"""Self-contained HTML pages: escaping, the inlined vis-network assets, and a
Content-Security-Policy that forbids the page to fetch anything.

Briefing pages are opened on officers' laptops, often offline and sometimes
behind a firewall that blocks CDNs, and they carry names typed by whoever
filled in a registry spreadsheet. So every page written here:

* inlines everything it needs (vis-network's script and styles are read from
  the installed pyvis package at run time, never copied into this repo and
  never linked from a CDN; pyvis's own template links Bootstrap from one even
  in ``in_line`` mode, which is why we do not use it);
* declares ``default-src 'none'`` and allows only its own inline scripts by
  their SHA-256 hash, so that a page cannot request anything from the network
  and a name that slipped past escaping still could not run;
* escapes every registry string: :func:`esc` for HTML text and attributes,
  :func:`script_json` for data embedded in a ``<script>`` block (JSON with
  ``<``, ``>`` and ``&`` written as ``\\u003c`` etc., so ``</script>`` inside a
  name cannot end the block);
* is written as UTF-8, atomically (:mod:`consortia.io`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConsortiaError
from ..io import atomic_write_text

__all__ = ["BASE_CSS", "esc", "render_page", "script_json", "vis_assets", "write_page"]

#: The vis-network build pyvis ships (pyvis 0.3.2: ``pyvis/lib/vis-9.1.2``).
VIS_DIR = "vis-9.1.2"

#: One font stack for every page: Noto CJK (Debian's fonts-noto-cjk) first, then what the OS has.
FONT_STACK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
              '"WenQuanYi Micro Hei", sans-serif')

BASE_CSS = f"""
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: {FONT_STACK}; color: #222; background: #fff; }}
header {{ padding: 10px 16px 6px; border-bottom: 1px solid #ddd; }}
header h1 {{ font-size: 20px; margin: 0 0 4px; }}
header p {{ margin: 0; color: #555; font-size: 13px; }}
main {{ padding: 12px 16px; }}
main h2 {{ font-size: 17px; margin: 18px 0 6px; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
a {{ color: #1b4f8a; }}
.muted {{ color: #777; }}
"""


def esc(value: object) -> str:
    """HTML-escape any value for text or a quoted attribute (``None`` becomes empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` only ever occur inside JSON strings, where the
    ``\\u`` escapes mean the same characters, so ``</script>`` or ``<!--`` in a
    unit's name cannot end or disturb the element. U+2028/9 are escaped for
    older JavaScript parsers.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=1)
def vis_assets() -> tuple[str, str]:
    """vis-network's minified script and its stylesheet, read from the installed pyvis.

    Raises :class:`~consortia.errors.ConsortiaError` (exit 2) naming the fix
    when pyvis or its bundled assets are missing.
    """
    try:
        base = resources.files("pyvis") / "lib" / VIS_DIR
        js = (base / "vis-network.min.js").read_text(encoding="utf-8")
        css = (base / "vis-network.css").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError) as exc:
        raise ConsortiaError(f"vis-network assets not found in the installed pyvis ({exc}); "
                             "reinstall it: pip install 'pyvis>=0.3.2'") from exc
    # Inside a <script> element only "</script" could end it early; "<\/" means the same in JS.
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT"), css.replace("</style", "<\\/style")


def _sha256(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii") + "'"


def render_page(title: str, body: str, *, scripts: list[str] | tuple[str, ...] = (), styles: tuple[str, ...] = (),
                data: Any = None, lang: str = "zh-CN") -> str:
    """A complete page: ``body`` is trusted HTML built with :func:`esc`; ``scripts``
    are inline scripts (our own code, allowed by hash); ``data`` is put in a
    ``<script type="application/json" id="viz-data">`` block for them to read.

    The Content-Security-Policy allows nothing to be fetched: no script,
    stylesheet, font, image (other than ``data:``), frame or connection.
    """
    hashes = " ".join(_sha256(s) for s in scripts)
    csp = (f"default-src 'none'; script-src {hashes or chr(39) + 'none' + chr(39)}; style-src 'unsafe-inline'; "
           "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{BASE_CSS}</style>",
        *(f"<style>{s}</style>" for s in styles),
        "</head>",
        "<body>",
        body,
    ]
    if data is not None:
        parts.append(f'<script type="application/json" id="viz-data">{script_json(data)}</script>')
    parts += [f"<script>{s}</script>" for s in scripts]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_page(path: str | Path, page: str) -> Path:
    """Write a page as UTF-8, atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, page, encoding="utf-8")
    return path
