"""One self-contained HTML page for a fit: estimates, sources, surprising claims, diagnostics,
the identifying assumption, the configuration and every claim with its quote.

Rendered with Jinja2 and autoescaping: every piece of text that comes from a claims file (quotes,
sources, citations, identifiers) is HTML-escaped. Figures are embedded as base64 PNG data URIs,
so the page needs no other file or network access. An interactive cumulative view follows the
static figure (:mod:`reconcile.interactive`: a script of this package and the data it draws,
embedded too); without JavaScript, and in print, the page reads the same without it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from . import __version__, interactive, summary
from ._io import atomic_write_text
from ._progress import stage
from ._signals import checkpoint
from .model import CATEGORIES, ROLE_BOUND, ROLE_LOSS, ROLE_RELAY
from .plots import CAPTIONS, PendingPlots, save_plots
from .wording import _n, _period, _stated

__all__ = ["render_report", "write_report"]


def _factor(v) -> str:
    try:
        return f"×{float(v):.2f}"
    except (TypeError, ValueError):
        return ""


def _setting(value) -> str:
    """A configuration value as a reader would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_setting(v) for v in value) or "(empty)"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _images(plot_paths: list[Path]) -> list[dict]:
    # the captions the figures carry themselves (one source of truth: plots.CAPTIONS)
    captions = CAPTIONS
    out = []
    for path in plot_paths:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        caption = captions.get(path.stem, "")
        out.append(
            {
                "name": path.stem,
                "caption": caption,
                # what the figure shows, for a reader who cannot see it
                "alt": f"Figure {path.stem.replace('_', ' ')}: {caption}" if caption else f"Figure {path.stem}",
                "uri": f"data:image/png;base64,{data}",
            }
        )
    return out


def _context(result, images: list[dict]) -> dict:
    d = result.inputs
    name, source_name = result.config.population_label, result.config.source_label
    head = summary.headline(result)
    flags = summary.population_flags(result)
    prior_driven = set(flags.loc[flags["prior_driven"], "population"])
    flag_sentences = summary.describe_flags(result)
    sentences = []
    for pop in d.populations:
        rows = head[head["population"] == pop].set_index("category")
        if "casualties" not in rows.index:
            continue
        r = rows.loc["casualties"]
        sentences.append(
            f"Cumulative casualties of {name(pop)} by {r['date']}: median {_n(r['q50'])}, 90% interval "
            f"[{_n(r['q05'])}, {_n(r['q95'])}]."
        )
    est_rows = [
        {
            "population": name(r.population),
            "category": r.category,
            "date": r.date,
            "median": _n(r.q50),
            "interval": f"{_n(r.q05)} – {_n(r.q95)}",
            "iqr": f"{_n(r.q25)} – {_n(r.q75)}",
            "prior_driven": r.population in prior_driven,
        }
        for r in head.itertuples()
    ]
    src = summary.sources(result)
    # a drifting series' row (a source's running count of one population) under its source's
    src = src.assign(is_series=src["population"] != "", order=summary.own_row_values(src, range(len(src))))
    src = src.sort_values(["order", "is_series", "population"], kind="stable")
    source_rows = [
        {
            "source": f"↳ its running count of {name(r.population)}" if r.is_series else source_name(r.source),
            "group": r.source_group,
            "stance": r.stance,
            "n": int(r.n_claims),
            "median": _factor(r.bias_q50),
            "interval": f"{_factor(r.bias_q05)} – {_factor(r.bias_q95)}",
            "p_inflates": f"{r.p_inflates:.0%}",
            "populations": "; ".join(name(p) for p in str(r.populations).split(";") if p),
            "assumed": bool(r.assumed_unbiased),
        }
        for r in src.itertuples()
    ]
    check = summary.claims_check(result).set_index("claim_id")
    frame = d.claims
    claims = []
    surprising = []
    influential = []
    for _, row in frame.iterrows():
        cid = row["claim_id"]
        c = check.loc[cid]
        flag = str(c["flag"] or "") if isinstance(c["flag"], str) else ""
        role = row["role"]
        counted = bool(row["counted"]) and role in (ROLE_LOSS, ROLE_BOUND)  # what the fit reads
        item = {
            "claim_id": cid,
            "population": name(row["population"]),
            "category": row["category"],
            "source": source_name(row["source"]),
            "stance": row["stance"],
            "stated": _stated(row),
            "period": _period(row),
            "reported_on": f"{pd.Timestamp(row['reported_on']):%Y-%m-%d}",
            "quote": row["quote"],
            "citation": row["citation"],
            "citation_is_url": str(row["citation"]).startswith(("http://", "https://")),
            "role": "not counted (relay of " + str(row["derived_from"]) + ")" if role == ROLE_RELAY else role,
            "counted": counted,
            "true": (
                f"{_n(c['true_q50'])} [{_n(c['true_q05'])}, {_n(c['true_q95'])}]" if np.isfinite(c["true_q50"]) else ""
            ),
            "percentile": f"{c['ppc_percentile']:.0%}" if np.isfinite(c["ppc_percentile"]) else "",
            "flag": flag,
            "notes": row.get("notes", ""),
            "pareto_k": f"{c['pareto_k']:.2f}" if np.isfinite(c.get("pareto_k", np.nan)) else "",
            "elpd_loo": f"{c['elpd_loo']:.3f}" if np.isfinite(c.get("elpd_loo", np.nan)) else "",
            # the claim's own fit barely depends on it: a high k with an elpd near 0 (e.g. a strength
            # far above the losses) means an unreliable estimate, not a claim the fit rests on
            "loo_matters": summary.loo_matters(c.get("elpd_loo", np.nan)),
            "loo_flag": str(c.get("loo_flag", "") or "") if isinstance(c.get("loo_flag", ""), str) else "",
        }
        claims.append(item)
        if flag:
            surprising.append(item)
        if item["loo_flag"]:
            influential.append(item)
    diag = result.diagnostics
    attrs = result.idata.posterior.attrs
    return {
        "title": "reconcile: casualty estimates",
        "populations": [name(p) for p in d.populations],
        "sentences": sentences,
        "flag_sentences": flag_sentences,
        "extrapolated": summary.describe_extrapolation(result),
        "estimates": est_rows,
        "sources": source_rows,
        "surprising": surprising,
        "influential": influential,
        "pareto_k_limit": summary.PARETO_K_LIMIT,
        "has_loo": bool(check["pareto_k"].notna().any()) if "pareto_k" in check else False,
        "claims": claims,
        "n_counted": int(sum(1 for c in claims if c["counted"])),
        "n_loss": int((frame["role"] == ROLE_LOSS).sum()),
        "diag": {
            "verdict": diag.verdict(),
            "converged": bool(diag.converged),
            "max_rhat": f"{diag.max_rhat:.3f}",
            "min_ess_bulk": f"{diag.min_ess_bulk:.0f}",
            "min_ess_tail": f"{diag.min_ess_tail:.0f}",
            "divergences": int(diag.divergences),
            "sampler": diag.sampler,
            "seconds": f"{diag.seconds:.1f}",
            "draws": diag.draws,
            "chains": diag.chains,
            "bfmi": f"{diag.min_bfmi:.2f}" if diag.min_bfmi is not None else "n/a",
        },
        "identification": result.config.describe_identification(),
        "config_json": json.dumps(result.config.to_dict(), indent=2, sort_keys=True, ensure_ascii=False),
        "config_changes": [
            {"key": key, "value": _setting(value), "default": "(none)" if default is None else _setting(default)}
            for key, value, default in result.config.differences()
        ],
        "config_origin": result.config.origin,
        "seed": result.seed,
        "as_of": result.as_of.isoformat() if result.as_of is not None else "",
        "claims_sha256": result.claims.sha256,
        "claims_path": attrs.get("claims_path", "") or (result.claims.path or ""),
        "version": attrs.get("reconcile_version", __version__),
        "created": attrs.get("created", ""),
        "report_version": __version__,
        "images": images,
        "categories": CATEGORIES,
    }


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("reconcile", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(result, plot_paths: list[Path] | None = None) -> str:
    """The report as one HTML string (``plot_paths``: PNG files to embed, e.g. from save_plots)."""
    images = _images(list(plot_paths or []))
    context = _context(result, images)
    # the interactive view follows the static cumulative figure (or leads, without one)
    names = [img["name"] for img in images]
    split = names.index("cumulative") + 1 if "cumulative" in names else 0
    context["images_first"], context["images_rest"] = images[:split], images[split:]
    # escaped for a <script> element by view_json / a fixed file of the package: no HTML escaping
    context["view_json"] = Markup(interactive.view_json(interactive.view_data(result)))
    context["view_script"] = Markup(interactive.view_script())
    return _environment().get_template("report.html.j2").render(**context)


def write_report(result, out_dir, *, figures: PendingPlots | None = None) -> list[Path]:
    """Write ``out_dir/plots/*.png`` and ``*.svg`` and ``out_dir/report.html`` (the PNGs embedded);
    returns the PNG paths and the page's. ``figures``: the figures already being drawn into
    ``out_dir/plots`` (:func:`reconcile.plots.started_plots`), finished here.

    Callers wanting all-or-nothing output pass a staging directory (as ``outputs.write_outputs``
    and ``reconcile report`` do); the HTML file itself is written atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage("drawing the figures")
    paths = figures.finish() if figures is not None else save_plots(result, out / "plots")
    checkpoint("writing")  # (plots written, the page not yet: a stage of the fault-injection tests)
    stage("writing the report")
    page = out / "report.html"
    atomic_write_text(page, render_report(result, paths))
    return [*paths, page]
