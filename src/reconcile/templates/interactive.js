/* reconcile: the report's interactive cumulative view. No library: inline SVG drawn from the JSON
   in the element #cumulative-data. Every text goes in through textContent, never innerHTML. */
(function () {
  "use strict";
  var source = document.getElementById("cumulative-data");
  var root = document.getElementById("interactive");
  if (!source || !root) return;
  var data = JSON.parse(source.textContent);
  var NS = "http://www.w3.org/2000/svg";
  var STYLE = {
    casualties: { color: "#4D4D4D", dash: "" },
    wounded: { color: "#8A8A8A", dash: "5 3" },
    killed: { color: "#B5B5B5", dash: "1.5 2.5" }
  };
  var HEIGHT = 300, M = { left: 52, right: 14, top: 12, bottom: 26 };
  var DAY = 86400000;

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function html(name, cls, text, parent) {
    var node = document.createElement(name);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function time(iso) { return Date.parse(iso + "T00:00:00Z"); }
  function count(v) {
    /* a count as the report writes it: thousands separators, three significant digits */
    if (v === null || !isFinite(v)) return "";
    var a = Math.abs(v);
    if (a >= 1000) {
      var f = Math.pow(10, Math.floor(Math.log10(a)) - 2);
      v = Math.round(v / f) * f;
    }
    if (a >= 10 || v === 0) return Math.round(v).toLocaleString("en-US");
    return String(Number(v.toPrecision(2)));
  }
  function tick(v) {
    if (v >= 1e6) return v / 1e6 + "M";
    if (v >= 1e3) return v / 1e3 + "k";
    return String(v);
  }

  var tip = html("div", "iv-tip", null, null);
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  var pinned = null;

  function place(wrap, x, y) {
    /* inside the chart's box, never past the page's edge */
    wrap.appendChild(tip);
    tip.hidden = false;
    var w = wrap.clientWidth, tw = tip.offsetWidth, th = tip.offsetHeight;
    var left = Math.min(Math.max(4, x + 12), Math.max(4, w - tw - 4));
    if (x + 12 + tw > w && x - 12 - tw >= 4) left = x - 12 - tw;
    var top = y - th - 12;
    if (top < 0) top = y + 14;
    tip.style.left = left + "px";
    tip.style.top = top + "px";
    /* a tooltip that follows the pointer must not catch it; a pinned one (a tap) keeps its link */
    tip.style.pointerEvents = pinned ? "auto" : "none";
  }
  function hide() { tip.hidden = true; pinned = null; }

  function claimTip(pop, c) {
    tip.textContent = "";
    var s = data.sources[c.source] || { label: c.source };
    html("p", "iv-tip-title", s.label, tip);
    html("blockquote", null, c.quote, tip);
    var dl = html("dl", null, null, tip);
    function row(k, v) { if (v) { html("dt", null, k, dl); return html("dd", null, v, dl); } return null; }
    row("reported", c.reported);
    row("period", c.period);
    row("stated", c.stated + " " + c.category + " of " + pop.label + (c.kind === "bound" ? " (a force strength: bounds casualties)" : ""));
    if (c.true) row("model's true quantity", count(c.true[1]) + " [" + count(c.true[0]) + ", " + count(c.true[2]) + "] (median [90% interval])");
    var link = c.url && /^https?:\/\//i.test(c.citation);  /* a link only to a web address */
    var dd = row("citation", link ? " " : c.citation);
    if (dd && link) {
      dd.textContent = "";
      var a = html("a", null, c.citation, dd);
      a.href = c.citation;
      a.rel = "noreferrer";
    }
  }
  function bandTip(pop, i) {
    tip.textContent = "";
    html("p", "iv-tip-title", pop.label + ", by " + pop.dates[i], tip);
    var dl = html("dl", null, null, tip);
    data.categories.slice().reverse().forEach(function (cat) {
      var b = pop.bands[cat];
      html("dt", null, cat, dl);
      html("dd", null, count(b.q50[i]) + "  (50%: " + count(b.q25[i]) + "–" + count(b.q75[i]) +
        "; 90%: " + count(b.q05[i]) + "–" + count(b.q95[i]) + ")", dl);
    });
  }

  function marker(g, shape, x, y, color) {
    var r = 4.2;
    if (shape === "s") return el("rect", { x: x - r * 0.85, y: y - r * 0.85, width: r * 1.7, height: r * 1.7, fill: color, stroke: "#fff", "stroke-width": 0.8 }, g);
    if (shape === "D") return el("path", { d: "M" + x + "," + (y - r * 1.2) + "l" + r + "," + r * 1.2 + "l" + -r + "," + r * 1.2 + "l" + -r + "," + -r * 1.2 + "z", fill: color, stroke: "#fff", "stroke-width": 0.8 }, g);
    return el("circle", { cx: x, cy: y, r: r, fill: color, stroke: "#fff", "stroke-width": 0.8 }, g);
  }
  function arrow(g, x, y, up, color) {
    var d = up ? "M" + (x - 6) + "," + (y - 4) + "L" + x + "," + (y - 11) + "L" + (x + 6) + "," + (y - 4) + "M" + x + "," + (y - 11) + "V" + y
               : "M" + (x - 6) + "," + (y + 4) + "L" + x + "," + (y + 11) + "L" + (x + 6) + "," + (y + 4) + "M" + x + "," + (y + 11) + "V" + y;
    el("path", { d: d, fill: "none", stroke: color, "stroke-width": 1.8 }, g);
    el("line", { x1: x - 5, x2: x + 5, y1: y, y2: y, stroke: color, "stroke-width": 1.8 }, g);
  }

  function draw(wrap, pop, n) {
    wrap.textContent = "";
    var W = Math.max(260, wrap.clientWidth), H = HEIGHT;
    var t0 = time(pop.start), t1 = time(pop.dates[pop.dates.length - 1]);
    pop.claims.forEach(function (c) { t1 = Math.max(t1, time(c.date)); });
    var span = Math.max(t1 - t0, DAY);
    var xa = t0 - span * 0.02, xb = t1 + span * 0.03;
    var lo = Infinity, hi = 0;
    data.categories.forEach(function (cat) {
      var b = pop.bands[cat];
      b.q95.forEach(function (v) { if (v > hi) hi = v; });
      b.q05.forEach(function (v, i) { if (i > 0 && v > 0 && v < lo) lo = v; });
    });
    pop.claims.forEach(function (c) {
      [c.low, c.high].forEach(function (v) { if (v !== null && v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    });
    hi = Math.max(hi, 1);
    lo = Math.max(Math.min(lo, hi / 10), hi / 1e5);
    var ya = Math.log10(lo) - 0.05, yb = Math.log10(hi) + 0.08;
    function X(t) { return M.left + (t - xa) / (xb - xa) * (W - M.left - M.right); }
    function Y(v) { return M.top + (yb - Math.log10(Math.max(v, lo / 10))) / (yb - ya) * (H - M.top - M.bottom); }

    var svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "iv-svg", role: "img",
      "aria-label": pop.label + ": cumulative losses (log scale) with " + pop.claims.length + " claims" }, wrap);
    var clip = "iv-clip-" + n;
    el("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom }, el("clipPath", { id: clip }, el("defs", {}, svg)));
    var axes = el("g", { class: "iv-axes" }, svg);
    /* y: powers of ten, with 2 and 5 between them when the axis spans few decades */
    var decades = yb - ya, steps = decades < 2.5 ? [1, 2, 5] : [1];
    for (var p = Math.floor(ya); p <= Math.ceil(yb); p++) {
      steps.forEach(function (m) {
        var v = m * Math.pow(10, p), l = Math.log10(v);
        if (l < ya || l > yb || v < 1) return;
        var y = Y(v);
        el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, stroke: "#E5E5E5" }, axes);
        el("text", { x: M.left - 5, y: y + 3.5, "text-anchor": "end" }, axes).textContent = tick(v);
      });
    }
    /* x: months or years, as many as fit */
    var months = (xb - xa) / (30.44 * DAY), every = [1, 2, 3, 6, 12, 24].filter(function (n) { return months / n <= Math.max(2, (W - M.left - M.right) / 75); })[0] || 24;
    var d = new Date(xa); d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    for (; d.getTime() <= xb; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) {
      if ((d.getUTCFullYear() * 12 + d.getUTCMonth()) % every) continue;
      var x = X(d.getTime());
      el("line", { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 4, stroke: "#777" }, axes);
      var label = every >= 12 || d.getUTCMonth() === 0 ? String(d.getUTCFullYear()) : d.toLocaleString("en-GB", { month: "short", timeZone: "UTC" });
      el("text", { x: x, y: H - M.bottom + 16, "text-anchor": "middle" }, axes).textContent = label;
    }
    el("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, stroke: "#777" }, axes);

    var plot = el("g", { "clip-path": "url(#" + clip + ")" }, svg);
    var xs = pop.dates.map(function (s) { return X(time(s)); });
    function area(a, b) {
      var top = xs.map(function (x, i) { return x + "," + Y(b[i]); }).join("L");
      var bottom = xs.map(function (x, i) { return x + "," + Y(a[i]); }).reverse().join("L");
      return "M" + top + "L" + bottom + "Z";
    }
    data.categories.slice().reverse().forEach(function (cat) {
      var b = pop.bands[cat], st = STYLE[cat] || STYLE.casualties;
      el("path", { d: area(b.q05, b.q95), fill: st.color, "fill-opacity": 0.16, class: "iv-band" }, plot);
      el("path", { d: area(b.q25, b.q75), fill: st.color, "fill-opacity": 0.30, class: "iv-band" }, plot);
      el("path", { d: "M" + xs.map(function (x, i) { return x + "," + Y(b.q50[i]); }).join("L"), fill: "none", stroke: "#1A1A1A", "stroke-width": 1.4, "stroke-dasharray": st.dash, class: "iv-median", "data-category": cat }, plot);
    });
    var guide = el("line", { y1: M.top, y2: H - M.bottom, stroke: "#333", "stroke-width": 0.8, visibility: "hidden" }, svg);
    var overlay = el("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom, fill: "transparent", class: "iv-overlay" }, svg);
    function nearest(evt) {
      var box = svg.getBoundingClientRect(), x = (evt.clientX - box.left) * W / box.width, best = 0;
      xs.forEach(function (v, i) { if (Math.abs(v - x) < Math.abs(xs[best] - x)) best = i; });
      return best;
    }
    function onCurve(evt) {
      if (pinned) return;
      var i = nearest(evt);
      guide.setAttribute("x1", xs[i]); guide.setAttribute("x2", xs[i]); guide.setAttribute("visibility", "visible");
      bandTip(pop, i);
      place(wrap, xs[i] * wrap.clientWidth / W, Y(pop.bands.casualties.q50[i]));
    }
    overlay.addEventListener("mousemove", onCurve);
    overlay.addEventListener("click", function (evt) { pinned = null; onCurve(evt); });
    overlay.addEventListener("mouseleave", function () { if (!pinned) { hide(); guide.setAttribute("visibility", "hidden"); } });

    var marks = el("g", { class: "iv-claims" }, svg);
    pop.claims.forEach(function (c, k) {
      var s = data.sources[c.source] || { color: "#8C8C8C", marker: "o", label: c.source };
      var x = X(time(c.date));
      var g = el("g", { class: "iv-claim", tabindex: 0, role: "button", "data-claim": c.id,
        "aria-label": s.label + ": " + c.stated + " " + c.category + ", " + c.period }, marks);
      var q = c.qualifier, low = c.low, high = c.high, y;
      if (c.kind === "bound") {
        y = Y(high);
        el("line", { x1: x - 12, x2: x + 12, y1: y, y2: y, stroke: s.color, "stroke-width": 1.8, "stroke-dasharray": "4 2" }, g);
        marker(g, s.marker, x, y, s.color).setAttribute("transform", "translate(" + x + "," + y + ") scale(0.75) translate(" + -x + "," + -y + ")");
      } else if (q === "at_least" || q === "more_than" || (high === null && q !== "exact" && q !== "about")) {
        y = Y(low); arrow(g, x, y, true, s.color);
      } else if (q === "at_most" || q === "fewer_than") {
        y = Y(high); arrow(g, x, y, false, s.color);
      } else if (low === high || q === "exact" || q === "about") {
        y = Y(low !== null ? low : high); marker(g, s.marker, x, y, s.color);
      } else {
        var ya2 = Y(Math.max(low, 1e-9)), yb2 = Y(high); y = (ya2 + yb2) / 2;
        el("line", { x1: x, x2: x, y1: ya2, y2: yb2, stroke: s.color, "stroke-width": 2.2, "stroke-dasharray": q === "vague" ? "4 2.5" : "" }, g);
        el("line", { x1: x - 4, x2: x + 4, y1: ya2, y2: ya2, stroke: s.color, "stroke-width": 1.8 }, g);
        el("line", { x1: x - 4, x2: x + 4, y1: yb2, y2: yb2, stroke: s.color, "stroke-width": 1.8 }, g);
      }
      /* a target a finger can hit */
      el("circle", { cx: x, cy: y, r: 11, fill: "transparent", class: "iv-hit" }, g);
      function show(evt) {
        if (evt && evt.type === "click") { pinned = c; evt.stopPropagation(); }
        claimTip(pop, c);
        guide.setAttribute("visibility", "hidden");
        place(wrap, x * wrap.clientWidth / W, y);
      }
      g.addEventListener("mouseenter", function (evt) { if (!pinned) show(evt); });
      g.addEventListener("mouseleave", function () { if (!pinned) hide(); });
      g.addEventListener("click", show);
      g.addEventListener("focus", show);
      g.addEventListener("blur", function (evt) { if (pinned === c && !(evt.relatedTarget && tip.contains(evt.relatedTarget))) hide(); });
      g.addEventListener("keydown", function (evt) { if (evt.key === "Escape") { hide(); g.blur(); } });
    });
  }

  root.hidden = false;
  var nav = document.getElementById("interactive-nav");
  if (nav) nav.hidden = false;
  var charts = root.querySelector(".iv-charts");
  var drawn = [];
  data.populations.forEach(function (pop, n) {
    var fig = html("figure", "iv-figure", null, charts);
    html("p", "iv-title", pop.label + ": cumulative losses since " + pop.start + " (log scale)", fig);
    var wrap = html("div", "iv-chart", null, fig);
    var legend = html("ul", "iv-legend", null, fig);
    var seen = {};
    pop.claims.map(function (c) { return data.sources[c.source]; }).filter(Boolean)
      .sort(function (a, b) { return a.rank - b.rank; })
      .forEach(function (s) {
        if (seen[s.label]) return;
        seen[s.label] = true;
        var li = html("li", null, null, legend);
        var sw = html("span", "iv-swatch iv-" + ({ s: "square", D: "diamond" }[s.marker] || "circle"), null, li);
        sw.style.background = s.color;
        li.appendChild(document.createTextNode(s.label));
      });
    if (pop.n_window) html("p", "iv-note", pop.n_window + " window or daily claim" + (pop.n_window > 1 ? "s" : "") + " (not cumulative) in the static figure above, not here.", fig);
    draw(wrap, pop, n);
    drawn.push([wrap, pop, n]);
  });
  document.addEventListener("click", function (evt) { if (pinned && !tip.contains(evt.target)) hide(); });
  var width = root.clientWidth;
  window.addEventListener("resize", function () {
    if (root.clientWidth === width) return;
    width = root.clientWidth;
    hide();
    drawn.forEach(function (d) { draw(d[0], d[1], d[2]); });
  });
})();
