"""Write the example notebooks and execute them, so they are stored with their outputs.

    python notebooks/make_notebooks.py                     # rebuild and execute every notebook (full draws)
    python notebooks/make_notebooks.py 03_vintages.ipynb   # one notebook

The notebooks read RECONCILE_NOTEBOOK_DRAWS (default: the configuration's 1,000 draws per chain);
the test suite executes them with few draws so they never rot (tests/test_notebooks.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import os
import pandas as pd
import reconcile
from reconcile import plots

DRAWS = int(os.environ.get("RECONCILE_NOTEBOOK_DRAWS", 1500))  # the tests run this notebook with fewer
pd.set_option("display.max_colwidth", 80)"""

WALKTHROUGH = [
    new_markdown_cell(
        "# Reconciling the claims about North Korean losses in Kursk\n\n"
        "This walkthrough loads the shipped claims (`data/claims.csv`, every figure in five French "
        "articles with its verbatim quote), checks them, fits the model, and reads the results: "
        "the estimates, what the source biases mean, which claims surprise the model, and how the "
        "answer changes when the identifying assumption changes."
    ),
    new_code_cell(SETUP),
    new_markdown_cell(
        "## 1. Load and validate the claims\n\n"
        "`read_claims` validates the whole file and returns an immutable `Claims` object; a broken "
        "file raises one `ClaimsError` that lists every problem with its row and column."
    ),
    new_code_cell('claims = reconcile.read_claims("../data/claims.csv")\nclaims'),
    new_code_cell("print(claims.describe())"),
    new_markdown_cell("A broken row is refused with the row, the column, the value found and what was expected:"),
    new_code_cell(
        'broken = pd.read_csv("../data/claims.csv", dtype=str, keep_default_na=False)\n'
        'broken.loc[0, "reported_on"] = "2024-02-30"\n'
        'broken.loc[1, "qualifier"] = "roughly"\n'
        "try:\n"
        "    reconcile.claims_from_frame(broken)\n"
        "except reconcile.ClaimsError as error:\n"
        "    print(error)"
    ),
    new_markdown_cell(
        "## 2. The model configuration\n\n"
        "`models/kursk.toml` sets when each population's losses begin and the plausible scale of "
        "its daily losses; everything else comes from the package defaults. Every North Korean "
        "loss figure comes from the DPRK's adversaries, so the level of those losses rests on the "
        "prior for how much adversaries inflate:"
    ),
    new_code_cell(
        'config = reconcile.load_config("../models/kursk.toml")\n'
        "print(config.describe_identification())\n"
        'dict(config["populations"])'
    ),
    new_markdown_cell("## 3. Fit\n\nOne call: it compiles the model, samples with nutpie, and checks convergence."),
    new_code_cell("result = reconcile.fit(claims, config, seed=1, draws=DRAWS, progress=False)\nresult"),
    new_code_cell("print(result.diagnostics.verdict())"),
    new_markdown_cell(
        "## 4. Estimates\n\nCumulative losses since each population's start, with 90% intervals, at the last date:"
    ),
    new_code_cell("result.headline().round(0)"),
    new_markdown_cell(
        "Which of these estimates rest on the claims, and which on the prior? A population that "
        "fewer than two source groups speak about, or whose interval is more than half as wide as "
        "the prior's (log scale), is flagged: read its figure as an order of magnitude."
    ),
    new_code_cell("result.population_flags()"),
    new_code_cell("plots.plot_cumulative(result)"),
    new_code_cell("plots.plot_daily_rate(result)"),
    new_markdown_cell(
        "## 5. What the source biases mean\n\n"
        "A bias factor is *reported ÷ true*: 1.3 means the source's figures run 30% above the "
        "truth. With no neutral source speaking about the North Korean losses, these factors are "
        "pulled towards the prior for adversaries (about 1.22), and the claims move them from "
        "there: a source whose figures sit above the others' comes out higher."
    ),
    new_code_cell(
        'result.sources()[["source", "stance", "n_claims", "bias_q05", "bias_q50", "bias_q95", "p_inflates"]].round(2)'
    ),
    new_code_cell("plots.plot_sources(result)"),
    new_markdown_cell(
        "## 6. Which claims surprise the model\n\n"
        "`ppc_percentile` places each stated figure in the distribution of figures the model "
        "expects from that source; a claim outside the central 90% is flagged."
    ),
    new_code_cell(
        "check = result.claims_check()\n"
        'check.loc[check.role.isin(["loss figure", "strength bound"]), '
        '["claim_id", "true_q05", "true_q50", "true_q95", "ppc_percentile", "flag"]].round(2)'
    ),
    new_code_cell("plots.plot_claims_check(result)"),
    new_markdown_cell(
        "## 7. Change an assumption and refit\n\n"
        "Suppose instead that the UK Ministry of Defence is taken as unbiased. The level of the "
        'North Korean losses then follows its figure ("more than 6,000").'
    ),
    new_code_cell(
        'uk_reference = config.replace(identification={"mode": "reference", "reference_sources": ["UK Ministry of Defence"]})\n'
        "refit = reconcile.fit(claims, uk_reference, seed=1, draws=DRAWS, progress=False)\n"
        "print(refit.diagnostics.verdict())\n"
        'side_by_side = pd.concat({"adversaries inflate (default)": result.headline().set_index(["population", "category"])["q50"],\n'
        '                          "UK MoD unbiased": refit.headline().set_index(["population", "category"])["q50"]}, axis=1)\n'
        "side_by_side.round(0)"
    ),
    new_markdown_cell("Save everything a report needs (CSV tables, posterior, plots, HTML report):"),
    new_code_cell(
        "import tempfile\n"
        "out = tempfile.mkdtemp()\n"
        "result.save(out)\n"
        "sorted(p.name for p in __import__('pathlib').Path(out).iterdir())"
    ),
]

SIMULATED = [
    new_markdown_cell(
        "# A simulated war: does the model recover the truth?\n\n"
        "`reconcile.simulate` draws a war with known daily losses, sources with known biases and "
        "stances, and claims of every kind (cumulative, windows, daily rates; exact, rounded, "
        "bounds, ranges, vague phrases; relays). We fit it and compare with the truth."
    ),
    new_code_cell(SETUP),
    new_code_cell(
        "sim = reconcile.simulate(seed=7, n_populations=2, n_days=260, n_claims=80)\n"
        "claims = reconcile.claims_from_frame(sim.claims)\n"
        "print(claims.describe())\n"
        'sim.claims[["claim_id", "population", "category", "source", "stance", "qualifier", "value", "phrase"]].head(8)'
    ),
    new_code_cell(
        "result = reconcile.fit(claims, reconcile.load_config(), seed=7, draws=DRAWS, progress=False)\nprint(result.diagnostics.verdict())"
    ),
    new_markdown_cell("## True cumulative losses against the 90% intervals"),
    new_code_cell(
        "from reconcile.simulation import truth_at\n"
        "est = result.estimates()\n"
        "est['truth'] = [truth_at(sim.truth, r.population, r.category, pd.Timestamp(r.date).date()) for r in est.itertuples()]\n"
        "est['inside_90'] = (est.q05 <= est.truth) & (est.truth <= est.q95)\n"
        "est.groupby(['population', 'category']).inside_90.mean().rename('share of dates inside the 90% interval')"
    ),
    new_code_cell(
        "import matplotlib.dates as mdates\n"
        "from matplotlib.figure import Figure\n"
        "fig = Figure(figsize=(10, 4), layout='constrained')\n"
        "for ax, (pop, rows) in zip(fig.subplots(1, 2), est[est.category == 'casualties'].groupby('population')):\n"
        "    dates = pd.to_datetime(rows.date)\n"
        "    ax.fill_between(dates, rows.q05, rows.q95, alpha=0.3, label='90% interval')\n"
        "    ax.plot(dates, rows.q50, label='posterior median')\n"
        "    ax.plot(dates, rows.truth, 'k--', label='truth')\n"
        "    ax.set_title(f'{pop}: cumulative casualties')\n"
        "    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))\n"
        "    ax.legend()\n"
        "fig"
    ),
    new_markdown_cell("## Source biases: known against estimated"),
    new_code_cell(
        "true_bias = sim.truth[sim.truth.quantity == 'bias'].groupby(['source', 'stance']).value.mean().rename('true_bias')\n"
        "table = result.sources().set_index(['source', 'stance']).join(true_bias)\n"
        "table['inside_90'] = (table.bias_q05 <= table.true_bias) & (table.true_bias <= table.bias_q95)\n"
        "table[['n_claims', 'true_bias', 'bias_q05', 'bias_q50', 'bias_q95', 'inside_90']].round(2)"
    ),
    new_code_cell("plots.plot_sources(result)"),
    new_markdown_cell(
        "Sources known to inflate come out above 1, those known to deflate below 1, and the "
        "intervals contain the known factors. Calibration over many simulated wars is checked by "
        "the test suite (`pytest -m slow`)."
    ),
]

VINTAGES = [
    new_markdown_cell(
        "# What did we know, and when\n\n"
        "A fit to every claim answers one question: what do *all* the figures say? Newsrooms ask "
        "others. What is the estimate **today**, weeks after the last claim? What did the estimate "
        "say **on 1 March**, with what was known then? And, on real claims where no truth is known: "
        "**did the fits predict the claims that came after them?** This notebook answers each on the "
        "shipped claims (North Korean troops in Kursk), then compares the last check with the truth "
        "on a simulated war."
    ),
    new_code_cell(
        SETUP
        + "\nfrom reconcile.backtest import backtest\nfrom reconcile.batch_plots import plot_forecast_check, plot_vintages"
    ),
    new_code_cell(
        'claims = reconcile.read_claims("../data/claims.csv")\n'
        'config = reconcile.load_config("../models/kursk.toml")\n'
        'claims.frame.groupby("reported_on").size().rename("claims reported that day")'
    ),
    new_markdown_cell(
        "## 1. An as-of fit, carried to a later day\n\n"
        "`as_of` keeps only the claims reported by that day; `until` carries the estimates past the "
        "last claim, with uncertainty that grows as the model's dynamics imply (the figures shade "
        "the extrapolated days)."
    ),
    new_code_cell(
        'early = reconcile.fit(claims, config, as_of="2025-01-15", until="2025-03-31", seed=1, draws=DRAWS, progress=False)\n'
        "print(early.diagnostics.verdict())\n"
        "early.extrapolation()"
    ),
    new_code_cell(
        'pd.concat([early.losses("dprk_kursk", "2024-10-01", day).summary() for day in ("2025-01-15", "2025-02-15", "2025-03-31")])'
    ),
    new_markdown_cell(
        "## 2. A backtest: a fit at every vintage\n\n"
        "`backtest` (or `reconcile backtest data/claims.csv --every 60d --out DIR`) fits the claims as "
        "they stood every 60 days. `vintages.csv` holds each vintage's estimate at its own day; the "
        "plot sets the nowcasts beside what the last vintage, with every claim, says of the same days."
    ),
    new_code_cell(
        "import tempfile\n"
        "table = backtest(claims, config, every=60, out_dir=tempfile.mkdtemp(), workers=1, draws=DRAWS, progress=False)\n"
        'table[(table.category == "casualties") & (table.at_vintage == True)][["vintage", "population", "n_claims", "q05", "q50", "q95", "converged"]]'
    ),
    new_code_cell("plot_vintages(table)"),
    new_markdown_cell(
        "## 3. Did each vintage predict the claims that came after it?\n\n"
        "For every loss claim reported after a vintage, `forecast_check.csv` gives the percentile "
        "of its stated figure in the vintage's posterior predictive distribution: the true losses "
        "over the claim's window, times its source's bias, with the source's noise (a source the "
        "vintage never heard from gets a bias and noise drawn from the model's pool). Calibrated "
        "predictions put about half the later figures inside the 50% interval and nine in ten "
        'inside the 90% one, at every horizon. A bound such as "more than 6,000" gets a percentile drawn '
        "at random between where 6,000 falls and 100% (so that it too is uniform when the predictions "
        "are calibrated): a single bound can land outside the 90% interval while agreeing with the "
        "prediction. With the shipped claims there are only a handful: read the shares with their "
        "binomial error bars."
    ),
    new_code_cell(
        'check = table.attrs["forecast_check"]\n'
        'check[["vintage", "claim_id", "source", "horizon_days", "kind", "stated_low", "pred_q05", "pred_q50", "pred_q95", "pit", "in_90"]]'
    ),
    new_code_cell('table.attrs["forecast_coverage"]'),
    new_markdown_cell(
        "## 4. The same check where the truth is known\n\n"
        "On real claims the forecast check is the only check there is. On a simulated war it can be "
        "set beside the truth. `benchmarks/backtest_world.py` backtests an independent test world "
        "(`reconcile.worlds`: a ministry's daily running tally and 17 other sources over 13 months, "
        "~500 claims; its truth shares nothing with the model). It takes 12-25 minutes on two "
        "cores, so this notebook reads what it recorded in `analyses/backtest-ministry-500/` (the "
        "command is in `COMMAND.txt` there). The rows `series` pool the ministry's running count "
        "apart from the other sources, and `horizon, other sources` the others by horizon: the "
        "tally gives most of the later figures, and its forecasts are too wide (its later figures "
        "fall inside the 90% intervals nearly always), while the other sources' are close to nine "
        "in ten."
    ),
    new_code_cell(
        "import json\n"
        'recorded = "../analyses/backtest-ministry-500"\n'
        'summary = json.load(open(f"{recorded}/summary.json"))\n'
        "print(f\"{summary['vintages']} vintages; truth inside the as-of 90% intervals: {summary['truth_coverage90']:.0%} \"\n"
        "      f\"(50%: {summary['truth_coverage50']:.0%}, {summary['truth_n']} vintage x population x category)\")\n"
        'pd.read_csv(f"{recorded}/forecast_coverage.csv")'
    ),
    new_code_cell('plot_forecast_check(pd.read_csv(f"{recorded}/forecast_check.csv"))'),
]


def build(name: str, cells, execute: bool = True) -> Path:
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    path = HERE / name
    if execute:
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    nbformat.write(nb, path)
    return path


NOTEBOOKS = {"01_walkthrough.ipynb": WALKTHROUGH, "02_simulated_war.ipynb": SIMULATED, "03_vintages.ipynb": VINTAGES}


if __name__ == "__main__":
    execute = "--no-execute" not in sys.argv
    chosen = [a for a in sys.argv[1:] if a.endswith(".ipynb")] or list(NOTEBOOKS)
    for name in chosen:
        print("wrote", build(name, NOTEBOOKS[name], execute))
