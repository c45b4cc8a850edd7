"""Render an HTML page in headless Chromium at a given width and report what a reader would meet.

Chromium will not open a window narrower than 500 px, so the page is loaded in an iframe of the
width asked for, inside a page of its own. A probe script, added to a copy of the page (the page
itself is never touched), waits for the load event and posts back:

- ``viewport`` and ``scroll_width``: the page's width and how far it can scroll sideways;
- ``wide``: elements whose right edge passes the viewport outside a container meant to scroll
  sideways on its own (``.table-scroll``, ``.figure-scroll``);
- ``images`` and ``broken``: how many images there are and how many failed to load;
- ``requests``: every resource the page fetched (Resource Timing; embedded ``data:`` images are
  not requests). Host names resolve nowhere, so nothing can leave the machine either way;
- ``interactive``: for a report's interactive cumulative view (else null), how many charts
  (``svg.iv-svg``) and claim marks (``.iv-claim``) it drew, and what a reader sees after tapping
  the first mark (a click event, as a tap sends): the tooltip's text and its left and right edges,
  the page's scroll width with it open, and the tooltip a mouse pointing at a curve shows.

A screenshot of the framed page is written beside the copy for a person to look at.
"""

from __future__ import annotations

import html as markup
import json
import re
import shutil
import subprocess
from pathlib import Path

PROBE = """<script>
window.addEventListener('load', function () {
  var doc = document.documentElement;
  var all = Array.prototype.slice.call(document.querySelectorAll('body *'));
  var wide = all.filter(function (el) {
    var box = el.getBoundingClientRect();
    return box.width > 0 && box.right > doc.clientWidth + 1 && !el.closest('.table-scroll, .figure-scroll');
  }).map(function (el) { return el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''); });
  var images = Array.prototype.slice.call(document.images);
  var found = {
    viewport: doc.clientWidth, scroll_width: doc.scrollWidth, wide: wide.slice(0, 20),
    images: images.length,
    broken: images.filter(function (im) { return !(im.complete && im.naturalWidth > 0); }).length,
    requests: null, interactive: null
  };
  var view = document.getElementById('interactive');
  if (view) {
    var marks = view.querySelectorAll('.iv-claim');
    var nav = document.getElementById('interactive-nav');
    var seen = { charts: view.querySelectorAll('svg.iv-svg').length, marks: marks.length, hidden: view.hidden,
                 nav_hidden: nav ? nav.hidden : null };
    if (marks.length) {
      marks[0].scrollIntoView();
      marks[0].dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window }));
      var tip = view.querySelector('.iv-tip');
      var box = tip && !tip.hidden ? tip.getBoundingClientRect() : null;
      seen.tip = box ? tip.textContent : null;
      seen.tip_left = box ? box.left : null;
      seen.tip_right = box ? box.right : null;
      seen.scroll_width_tip = doc.scrollWidth;
      document.body.dispatchEvent(new MouseEvent('click', { bubbles: true, view: window }));
      seen.tip_closed = !tip || tip.hidden;
      var overlay = view.querySelector('.iv-overlay'), area = overlay.getBoundingClientRect();
      overlay.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, view: window,
        clientX: area.left + area.width / 2, clientY: area.top + area.height / 2 }));
      seen.curve_tip = tip && !tip.hidden ? tip.textContent : null;
    }
    found.interactive = seen;
  }
  found.requests = performance.getEntriesByType('resource').map(function (e) { return e.name; });
  parent.postMessage(JSON.stringify(found), '*');
});
</script>"""

FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="{page}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>window.addEventListener('message', function (e) {{
  var out = document.createElement('pre'); out.id = 'probe'; out.textContent = e.data; document.body.appendChild(out);
}});</script></body></html>"""


def chromium() -> str | None:
    """The Chromium binary on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(binary: str, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1400,1200",
            "--virtual-time-budget=15000",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def inspect(page_html: str, width: int, workdir: Path, height: int = 1100) -> dict:
    """Load ``page_html`` (the page's text) in Chromium at ``width`` px; returns the probe's findings
    plus ``screenshot`` (the path of a PNG of the framed page)."""
    binary = chromium()
    if binary is None:
        raise RuntimeError("no Chromium on PATH")
    workdir.mkdir(parents=True, exist_ok=True)
    page = workdir / f"page-{width}.html"
    page.write_text(page_html.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    frame = workdir / f"frame-{width}.html"
    frame.write_text(FRAME.format(page=page.name, width=width, height=height), encoding="utf-8")
    done = _run(binary, frame.as_uri(), "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    if found is None:
        raise RuntimeError(f"the probe did not report (exit {done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(markup.unescape(found.group(1)))
    shot = workdir / f"screenshot-{width}.png"
    _run(binary, frame.as_uri(), f"--screenshot={shot}", f"--window-size={width + 20},{height}")
    result["screenshot"] = shot
    return result
