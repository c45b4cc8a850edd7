"""Variants of a report for measuring the interactive cumulative view (docs/interactive-view.md).

    python benchmarks/interactive_view/variants.py REPORT.html VIEW.json OUT_DIR

REPORT.html is a report with the shipped view (hand-written script and inline SVG); VIEW.json is
``reconcile.interactive.view_json(view_data(fit))`` of the same fit. Writes into OUT_DIR:
``vanilla.html`` (the report as it is), ``baseline.html`` (without the view), ``plotly.html`` and
``bokeh.html`` (the view's block replaced by the same charts drawn by Plotly, plotly.js inline, and
by Bokeh, ``bokeh.resources.INLINE``: bands, medians, claims with hover text). Needs plotly and
bokeh, which are not dependencies of reconcile: run it in a scratch environment.
"""

import html as h
import json
import sys
from datetime import datetime
from pathlib import Path

import plotly.graph_objects as go
from bokeh.embed import components
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure
from bokeh.resources import INLINE

page = Path(sys.argv[1]).read_text(encoding="utf-8")
data = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
out = Path(sys.argv[3])
start = page.index('<div id="interactive" hidden>')
end = page.index("</script>", page.index('<script type="application/json" id="cumulative-data">') + 10)
end = page.index("</script>", end + 9) + len("</script>")
head, tail = page[:start], page[end:]
(out / "vanilla.html").write_text(page, encoding="utf-8")
(out / "baseline.html").write_text(head + tail, encoding="utf-8")
CAT = {"casualties": ("77,77,77", "solid"), "wounded": ("138,138,138", "dash"), "killed": ("181,181,181", "dot")}
SYM = {"o": "circle", "s": "square", "D": "diamond"}


def hover_text(pop, c):
    s = data["sources"].get(c["source"], {"label": c["source"]})
    return s["label"], c["quote"], c["reported"], c["period"], f"{c['stated']} {c['category']}", c["citation"]


def claim_y(c):
    if c["kind"] == "bound":
        return c["high"]
    if c["high"] is None or c["qualifier"] in ("at_least", "more_than"):
        return c["low"]
    if c["qualifier"] in ("at_most", "fewer_than"):
        return c["high"]
    return (c["low"] * c["high"]) ** 0.5


# -- plotly

parts = []
for k, pop in enumerate(data["populations"]):
    fig = go.Figure()
    for cat in reversed(data["categories"]):
        b, (rgb, dash) = pop["bands"][cat], CAT[cat]
        for lo, hi, a in (("q05", "q95", 0.16), ("q25", "q75", 0.30)):
            fig.add_trace(
                go.Scatter(
                    x=pop["dates"], y=b[lo], mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip"
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=pop["dates"],
                    y=b[hi],
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor=f"rgba({rgb},{a})",
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=pop["dates"],
                y=b["q50"],
                mode="lines",
                name=cat,
                line=dict(color="#1A1A1A", dash=dash, width=1.4),
                customdata=list(zip(b["q05"], b["q25"], b["q75"], b["q95"])),
                hovertemplate=cat
                + ": %{y:,.3s} (50%: %{customdata[1]:,.3s}–%{customdata[2]:,.3s}; 90%: %{customdata[0]:,.3s}–%{customdata[3]:,.3s})<extra></extra>",
            )
        )
    cl = pop["claims"]
    if cl:
        fig.add_trace(
            go.Scatter(
                x=[c["date"] for c in cl],
                y=[claim_y(c) for c in cl],
                mode="markers",
                name="claims",
                marker=dict(
                    size=10,
                    color=[data["sources"][c["source"]]["color"] for c in cl],
                    symbol=[SYM.get(data["sources"][c["source"]]["marker"], "circle") for c in cl],
                ),
                customdata=[[h.escape(x) for x in hover_text(pop, c)] for c in cl],
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>reported %{customdata[2]}; %{customdata[3]}<br>%{customdata[4]}<br>%{customdata[5]}<extra></extra>",
            )
        )
    fig.update_layout(
        yaxis_type="log",
        height=300,
        margin=dict(l=50, r=10, t=30, b=30),
        title=pop["label"],
        template="simple_white",
        hovermode="closest",
    )
    parts.append(
        fig.to_html(
            full_html=False,
            include_plotlyjs=(k == 0),
            config={"responsive": True, "displaylogo": False},
            div_id=f"plotly-{k}",
        )
    )
(out / "plotly.html").write_text(head + '<div id="interactive">' + "".join(parts) + "</div>" + tail, encoding="utf-8")

# -- bokeh

figs = []
for pop in data["populations"]:
    x = [datetime.fromisoformat(d) for d in pop["dates"]]
    p = figure(
        y_axis_type="log", x_axis_type="datetime", height=300, sizing_mode="stretch_width", title=pop["label"], tools=""
    )
    for cat in reversed(data["categories"]):
        b, (rgb, dash) = pop["bands"][cat], CAT[cat]
        col = "#" + "".join(f"{int(v):02x}" for v in rgb.split(","))
        p.varea(x=x, y1=b["q05"], y2=b["q95"], fill_color=col, fill_alpha=0.16)
        p.varea(x=x, y1=b["q25"], y2=b["q75"], fill_color=col, fill_alpha=0.30)
        src = ColumnDataSource(
            dict(x=x, y=b["q50"], q05=b["q05"], q25=b["q25"], q75=b["q75"], q95=b["q95"], cat=[cat] * len(x))
        )
        r = p.line(
            "x",
            "y",
            source=src,
            color="#1A1A1A",
            line_dash={"solid": "solid", "dash": "dashed", "dot": "dotted"}[dash],
            line_width=1.4,
        )
        p.add_tools(
            HoverTool(
                renderers=[r],
                mode="vline",
                tooltips=[
                    ("", "@cat"),
                    ("date", "@x{%F}"),
                    ("median", "@y{0,0}"),
                    ("50%", "@q25{0,0}–@q75{0,0}"),
                    ("90%", "@q05{0,0}–@q95{0,0}"),
                ],
                formatters={"@x": "datetime"},
            )
        )
    cl = pop["claims"]
    if cl:
        t = [hover_text(pop, c) for c in cl]
        src = ColumnDataSource(
            dict(
                x=[datetime.fromisoformat(c["date"]) for c in cl],
                y=[claim_y(c) for c in cl],
                color=[data["sources"][c["source"]]["color"] for c in cl],
                source=[a[0] for a in t],
                quote=[a[1] for a in t],
                reported=[a[2] for a in t],
                period=[a[3] for a in t],
                stated=[a[4] for a in t],
                citation=[a[5] for a in t],
            )
        )
        r = p.scatter("x", "y", source=src, color="color", size=10)
        p.add_tools(
            HoverTool(
                renderers=[r],
                tooltips=[
                    ("source", "@source"),
                    ("quote", "@quote"),
                    ("reported", "@reported"),
                    ("period", "@period"),
                    ("stated", "@stated"),
                    ("citation", "@citation"),
                ],
            )
        )
    figs.append(p)
script, divs = components(figs)
res = INLINE.render()
(out / "bokeh.html").write_text(
    head + '<div id="interactive">' + res + script + "".join(divs) + "</div>" + tail, encoding="utf-8"
)
for name in ("baseline", "vanilla", "plotly", "bokeh"):
    print(name, (out / f"{name}.html").stat().st_size)
