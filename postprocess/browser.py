"""Check an HTML page in headless Chromium: console errors and images that fail to display.

The page is copied next to itself with a small script injected at the top of ``<head>``. The
script records errors (``console.error``, uncaught exceptions, failed resource loads, rejected
promises) and, once the page has loaded, the ``naturalWidth`` of every ``<img>``; it writes them
as JSON into the DOM, which ``chromium --headless --dump-dom`` prints. Console messages that
Chromium logs to stderr (``CONSOLE`` lines: ``console.log``/``warn`` of the page, or a blocked
resource) count as errors too: a self-contained report has no reason to log anything.
The original page is not modified.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CHROMIUM_FLAGS", "BrowserCheck", "check_html", "find_chromium"]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
_RESULT_ID = "electrolyx-browser-check"
_PROBE = """<script>
(function () {
  var errors = [];
  console.error = function () {  // recorded here, so not repeated on Chromium's stderr
    errors.push("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
  };
  window.addEventListener("error", function (event) {
    var target = event.target || {};
    if (target !== window && (target.src || target.href)) {
      errors.push("failed to load " + String(target.src || target.href).slice(0, 80));
    } else {
      errors.push("uncaught error: " + event.message);
    }
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    errors.push("unhandled rejection: " + String(event.reason));
  });
  window.addEventListener("load", function () {
    setTimeout(function () {
      var images = Array.prototype.map.call(document.images, function (img) {
        return {src: String(img.getAttribute("src") || "").slice(0, 60), alt: img.alt,
                complete: img.complete, naturalWidth: img.naturalWidth,
                naturalHeight: img.naturalHeight};
      });
      var headline = document.getElementById("headline");
      var rows = headline ? Array.prototype.map.call(headline.rows, function (row) {
        return Array.prototype.map.call(row.cells, function (cell) { return cell.innerText; });
      }) : [];
      var first = document.querySelector("table");
      var pre = document.createElement("pre");
      pre.id = "RESULT_ID";
      pre.textContent = JSON.stringify({errors: errors, images: images, headline: rows,
                                        first_table: first ? first.id : null});
      document.body.appendChild(pre);
    }, 0);
  });
})();
</script>""".replace("RESULT_ID", _RESULT_ID)


@dataclass
class BrowserCheck:
    """What headless Chromium saw on a page.

    Attributes:
        errors: Console errors, uncaught exceptions and failed loads, in order.
        images: One dict per ``<img>``: ``src`` (first characters), ``alt``, ``complete``,
            ``naturalWidth``, ``naturalHeight``.
        headline: The rows of the table ``#headline`` as displayed: [quantity, value] each.
        first_table: The id of the page's first table (``"headline"`` when it opens with it).
    """

    errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    headline: list[list[str]] = field(default_factory=list)
    first_table: str | None = None

    @property
    def broken_images(self) -> list[dict]:
        """Images that did not display (not complete, or natural width 0)."""
        return [im for im in self.images if not im["complete"] or im["naturalWidth"] <= 0]

    @property
    def ok(self) -> bool:
        """True when there is no error and every image displayed."""
        return not self.errors and not self.broken_images


def find_chromium() -> str | None:
    """Path of a Chromium or Chrome executable on PATH, or ``None``."""
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def check_html(page: str | Path, timeout_s: float = 120.0) -> BrowserCheck:
    """Load ``page`` in headless Chromium and report errors and undisplayed images.

    Args:
        page: HTML file.
        timeout_s: Longest time Chromium may take.

    Returns:
        What the browser saw.

    Raises:
        FileNotFoundError: When no Chromium is installed (``scripts/ensure-chromium.sh``).
        RuntimeError: When Chromium fails or the page never finishes loading.
    """
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium on PATH; run scripts/ensure-chromium.sh")
    source = Path(page).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="electrolyx-chromium-") as folder:
        probe_page = Path(folder) / "page.html"
        probe_page.write_text(_inject(source), encoding="utf-8")
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            probe_page.as_uri(),
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    match = re.search(rf'<pre id="{_RESULT_ID}">(.*?)</pre>', completed.stdout, re.DOTALL)
    if match is None:
        raise RuntimeError(
            f"chromium (exit code {completed.returncode}) did not finish loading the page; "
            f"stderr tail: {completed.stderr[-2000:]}"
        )
    found = json.loads(html.unescape(match.group(1)))
    console = [
        line.split("CONSOLE", 1)[1].strip(" :]")
        for line in completed.stderr.splitlines()
        if ":CONSOLE" in line
    ]
    errors = list(found["errors"]) + [f"console: {message}" for message in console]
    return BrowserCheck(
        errors=errors,
        images=found["images"],
        headline=found.get("headline", []),
        first_table=found.get("first_table") or None,
    )


def _inject(source: str) -> str:
    """The page with the probe script as the first element of ``<head>``."""
    head = re.search(r"<head[^>]*>", source, re.IGNORECASE)
    if head is not None:
        return source[: head.end()] + _PROBE + source[head.end() :]
    html_tag = re.search(r"<html[^>]*>", source, re.IGNORECASE)
    if html_tag is not None:
        return source[: html_tag.end()] + "<head>" + _PROBE + "</head>" + source[html_tag.end() :]
    return _PROBE + source
