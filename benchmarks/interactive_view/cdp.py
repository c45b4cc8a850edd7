"""Measure report variants in headless Chromium over the DevTools protocol (real time, no virtual
time): time from navigationStart to the chart drawn and painted (first requestAnimationFrame after
the chart's elements exist), the load event, the requests that leave the page, and whether a tap
(420 px, touch emulation) and a mouse hover (1280 px) on a claim show its tooltip.

    python benchmarks/interactive_view/cdp.py OUT_DIR/vanilla.html 5

The variant is named by the file's stem (baseline, vanilla, plotly, bokeh: see variants.py).
Chromium runs with ``nice -n 19``, hosts resolving nowhere; one warm-up load is not counted.
Needs websocket-client (not a dependency of reconcile)."""

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

READY = {
    "baseline": "true",
    "vanilla": "document.querySelectorAll('#interactive svg.iv-svg').length >= 3",
    "plotly": "document.querySelectorAll('#interactive .js-plotly-plot .scatterlayer .trace').length >= 3*10",
    "bokeh": "!!(window.Bokeh && Bokeh.index && Object.values(Bokeh.index).filter(function(v){return v.model.type === 'Figure' && v.has_finished()}).length >= 3)",
}
PROBE = """(function(){
  var cond = function(){ try { return %s; } catch (e) { return false; } };
  function poll(){ if (document.readyState !== 'loading' && cond()) { requestAnimationFrame(function(){ window.__ready = performance.now(); }); } else { requestAnimationFrame(poll); } }
  requestAnimationFrame(poll);
})();"""
DEEP = """function deepAll(sel, root){ root = root || document; var out = Array.prototype.slice.call(root.querySelectorAll(sel));
  root.querySelectorAll('*').forEach(function(e){ if (e.shadowRoot) out = out.concat(deepAll(sel, e.shadowRoot)); }); return out; }"""
TARGET = {  # the first claim of the first population: its centre on screen
    "vanilla": "(function(){var r=document.querySelector('#interactive .iv-claim .iv-hit').getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2]})()",
    "plotly": "(function(){var t=document.querySelectorAll('#plotly-0 .scatterlayer .trace');var p=t[t.length-1].querySelector('.point');var r=p.getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2]})()",
    "bokeh": """(function(){var v=Object.values(Bokeh.index)[0];var rv=null;v.renderer_views.forEach(function(x){ if (x.glyph && x.glyph.model && x.glyph.model.type==='Scatter') rv=x; });
      var c=v.canvas_view.el.getBoundingClientRect(); var i=0; return [c.x+rv.glyph.sx[i], c.y+rv.glyph.sy[i]];})()""",
}
SHOWN = {
    "vanilla": "(function(){var t=document.querySelector('.iv-tip');if(!t||t.hidden)return null;var r=t.getBoundingClientRect();return {text:t.textContent.slice(0,160),left:r.left,right:r.right}})()",
    "plotly": "(function(){var t=document.querySelector('#plotly-0 .hoverlayer .hovertext');if(!t)return null;var r=t.getBoundingClientRect();return {text:t.textContent.slice(0,160),left:r.left,right:r.right}})()",
    "bokeh": "(function(){"
    + DEEP
    + "var t=deepAll('.bk-Tooltip').filter(function(e){return e.getBoundingClientRect().width>0});if(!t.length)return null;var r=t[0].getBoundingClientRect();var all=t;function txt(n){var s='';n.childNodes.forEach(function(c){if(c.nodeName!=='STYLE')s+=c.nodeType===3?c.textContent:txt(c)});if(n.shadowRoot)s+=txt(n.shadowRoot);return s}return {text:all.map(function(e){return txt(e).slice(0,120)}).join(' || '),n:all.length,left:r.left,right:r.right}})()",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Tab:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=120, suppress_origin=True)
        self.n = 0
        self.events = []

    def call(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg.get("result", {})
            self.events.append(msg)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")


def run(page: Path, runs: int):
    variant = page.stem
    port = free_port()
    prof = tempfile.mkdtemp(prefix="cdp-")
    proc = subprocess.Popen(
        [
            "nice",
            "-n",
            "19",
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={prof}",
            f"--remote-debugging-port={port}",
            "--window-size=1280,1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        results = []
        for k in range(runs + 1):  # the first run warms the browser up and is not counted
            t = json.loads(
                urllib.request.urlopen(
                    urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
                ).read()
            )
            tab = Tab(t["webSocketDebuggerUrl"])
            tab.call("Network.enable")
            tab.call("Page.enable")
            tab.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
            tab.call("Page.addScriptToEvaluateOnNewDocument", source=PROBE % READY[variant])
            tab.events.clear()
            tab.call("Page.navigate", url=page.as_uri())
            for _ in range(1200):
                ready = tab.eval("window.__ready || null")
                if ready:
                    break
                time.sleep(0.05)
            load = tab.eval("performance.getEntriesByType('navigation')[0].loadEventEnd")
            fcp = tab.eval("(performance.getEntriesByName('first-contentful-paint')[0]||{}).startTime||null")
            reqs = [
                e["params"]["request"]["url"][:80]
                for e in tab.events
                if e.get("method") == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(("data:", page.as_uri()))
            ]
            res = tab.eval(
                "performance.getEntriesByType('resource').map(function(e){return e.name}).filter(function(n){return n.indexOf('data:')!==0})"
            )
            row = {"ready_ms": ready, "load_ms": load, "fcp_ms": fcp, "requests": reqs + (res or [])}
            if k == runs and variant != "baseline":  # tooltips, once: mouse at 1280 px, tap at 420 px
                tab.eval("document.getElementById('interactive').scrollIntoView()")
                time.sleep(0.3)
                xy = tab.eval(TARGET[variant])
                row["hover_at"] = xy
                tab.call("Input.dispatchMouseEvent", type="mouseMoved", x=xy[0] - 3, y=xy[1] - 3)
                tab.call("Input.dispatchMouseEvent", type="mouseMoved", x=xy[0], y=xy[1])
                time.sleep(0.5)
                row["hover_1280"] = tab.eval(SHOWN[variant])
                tab.call("Input.dispatchMouseEvent", type="mouseMoved", x=5, y=5)
                tab.call("Emulation.setDeviceMetricsOverride", width=420, height=900, deviceScaleFactor=2, mobile=True)
                tab.call("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=1)
                time.sleep(1.0)
                tab.eval("document.getElementById('interactive').scrollIntoView()")
                time.sleep(0.5)
                xy = tab.eval(TARGET[variant])
                row["tap_at"] = xy
                tab.call("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": xy[0], "y": xy[1]}])
                tab.call("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
                time.sleep(0.8)
                row["tap_420"] = tab.eval(SHOWN[variant])
                row["scroll_width_420"] = tab.eval("document.documentElement.scrollWidth")
                tab.call("Page.captureScreenshot", format="png")  # (keeps the compositor honest)
            tab.ws.close()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/close/{t['id']}")
            if k:
                results.append(row)
        return results
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    page = Path(sys.argv[1]).resolve()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rows = run(page, runs)

    def med(key):
        values = [r[key] for r in rows if r[key] is not None]
        return statistics.median(values) if values else None

    print(
        json.dumps(
            {
                "variant": page.stem,
                "bytes": page.stat().st_size,
                "ready_ms_median": med("ready_ms"),
                "load_ms_median": med("load_ms"),
                "fcp_ms_median": med("fcp_ms"),
                "ready_ms": [round(r["ready_ms"] or -1) for r in rows],
                "load_ms": [round(r["load_ms"]) for r in rows],
                "requests": sorted({u for r in rows for u in r["requests"]}),
                **{
                    k: v
                    for k, v in rows[-1].items()
                    if k in ("hover_1280", "hover_at", "tap_420", "tap_at", "scroll_width_420")
                },
            },
            ensure_ascii=False,
            indent=1,
        )
    )
