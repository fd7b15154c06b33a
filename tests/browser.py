"""Headless Chromium for the browser tests: Debian's chromium driven by Playwright's Python package.

Nothing is downloaded: Playwright launches the system browser through
``executable_path``. Every request that is not ``file:`` or ``data:`` is
refused and recorded, and the page records Content-Security-Policy
violations, script errors and dialogs, so a test can assert from the page
itself that nothing was fetched and nothing ran that should not have.

Screenshots are kept as test artefacts in ``$CONSORTIA_TEST_ARTIFACTS``
(default ``tests/artifacts/``, which git ignores), overwritten on each run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Flags that keep Chromium from reaching Google services on its own (it would be refused and log noise).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

#: Installed before any page script: records CSP violations (the page forbids every fetch).
RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def chromium_path() -> str | None:
    """Debian's Chromium, or None when absent; ``$CONSORTIA_CHROMIUM`` names another binary (and only that one)."""
    override = os.environ.get("CONSORTIA_CHROMIUM")
    for cand in (override,) if override else (shutil.which("chromium"), "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def skip_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "Chromium is not installed (Debian: apt-get install chromium fonts-noto-cjk; .ci/run does this)"
    return None


def artifact_dir() -> Path:
    """Where screenshots are kept (created on demand)."""
    d = Path(os.environ.get("CONSORTIA_TEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def launch_browser() -> Iterator[Any]:
    """A headless Chromium for a test module; skips the module's browser tests, saying why, when it cannot run."""
    reason = skip_reason()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A page opened offline, with what it tried to do."""

    page: Any
    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def screenshot(self, name: str) -> Path:
        """Save a screenshot as a test artefact and return its path."""
        path = artifact_dir() / name
        self.page.screenshot(path=str(path))
        return path


@contextlib.contextmanager
def open_offline(browser: Any, path: Path, *, width: int = 1600, height: int = 1000, wait_ready: bool = False,
                 timeout_ms: int = 60_000) -> Iterator[Visit]:
    """Open ``path`` with every non-file request refused and recorded.

    ``wait_ready`` waits until the network page reports its first drawing
    (``window.consortiaViz.ready``).
    """
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                  service_workers="block")
    page = context.new_page()
    visit = Visit(page)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            visit.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda req: visit.requests.append(req.url))
    page.on("pageerror", lambda exc: visit.errors.append(str(exc)))
    page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
    page.add_init_script(RECORDER)
    try:
        page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
        if wait_ready:
            page.wait_for_function("window.consortiaViz && window.consortiaViz.ready === true", timeout=timeout_ms)
        yield visit
    finally:
        context.close()


#: What the network page drew, read from vis-network itself: visible node and edge ids
#: (``body.nodeIndices``/``edgeIndices`` are what the renderer iterates), and whether the canvas has ink.
DRAWN_JS = """() => {
  const v = window.consortiaViz, net = v.network;
  const c = document.querySelector('#network canvas');
  const ctx = c.getContext('2d');
  const img = ctx.getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < img.length; i += 4 * 97) { if (img[i + 3] > 0 && (img[i] < 235 || img[i + 1] < 235)) ink++; }
  return {nodes: net.body.nodeIndices.length, edges: net.body.edgeIndices.length,
          dataNodes: v.nodes.length, dataEdges: v.edges.length, readyMs: v.readyMs, ink: ink,
          expected: v.expected, mode: v.mode};
}"""
