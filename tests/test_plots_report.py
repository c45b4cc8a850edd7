"""Figures, the HTML report and `reconcile report DIR`, on ONE small real fit (compiled once)."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import browser  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import assert_all_reaped  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reconcile import interactive, plots  # noqa: E402
from reconcile.report import render_report  # noqa: E402

SCRIPT = "<script>alert(1)</script>"
PNG_HEADER = b"\x89PNG\r\n\x1a\n"
PLOT_NAMES = ["cumulative.png", "sources.png", "claims_check.png", "daily_rate.png", "priors.png"]


def _row(
    claim_id,
    category,
    qualifier,
    value,
    *,
    source="Ministry A & Partners",
    stance="adversary",
    reported_on="2024-03-01",
    period_start="2024-01-01",
    period_end="",
    measure="total",
    value_high="",
    phrase="",
    derived_from="",
    quote=None,
):
    return {
        "claim_id": claim_id,
        "population": "alpha",
        "category": category,
        "source": source,
        "source_group": "",
        "stance": stance,
        "reported_on": reported_on,
        "period_start": period_start,
        "period_end": period_end,
        "measure": measure,
        "qualifier": qualifier,
        "value": value,
        "value_high": value_high,
        "phrase": phrase,
        "derived_from": derived_from,
        "quote": quote or f"Quote of {claim_id}.",
        "citation": f"https://example.org/{claim_id}",
    }


CLAIMS = pd.DataFrame(
    [
        _row("c-exact", "casualties", "exact", "900", quote=f"About 900 casualties {SCRIPT} & more."),
        _row("c-about", "killed", "about", "250", source="Observer B", stance="neutral", reported_on="2024-03-10"),
        _row(
            "c-at-least",
            "casualties",
            "at_least",
            "1200",
            source="Observer B",
            stance="neutral",
            reported_on="2024-04-01",
        ),
        _row("c-more-than", "wounded", "more_than", "600", reported_on="2024-04-10"),
        _row(
            "c-at-most", "casualties", "at_most", "3000", source="Own Ministry", stance="own", reported_on="2024-04-20"
        ),
        _row(
            "c-fewer-than", "killed", "fewer_than", "800", source="Own Ministry", stance="own", reported_on="2024-05-01"
        ),
        _row(
            "c-range",
            "casualties",
            "range",
            "1400",
            value_high="2200",
            source="Observer B",
            stance="neutral",
            reported_on="2024-05-10",
        ),
        _row(
            "c-vague",
            "casualties",
            "vague",
            "",
            phrase="several hundred",
            source="Source <b>C</b>",
            reported_on="2024-02-01",
        ),
        _row(
            "c-window",
            "casualties",
            "about",
            "300",
            source="Observer B",
            stance="neutral",
            reported_on="2024-04-05",
            period_start="2024-03-01",
            period_end="2024-03-31",
        ),
        _row(
            "c-per-day",
            "casualties",
            "exact",
            "12",
            source="Observer B",
            stance="neutral",
            reported_on="2024-05-05",
            period_start="2024-04-01",
            period_end="2024-04-30",
            measure="per_day",
        ),
        _row(
            "c-relay",
            "casualties",
            "exact",
            "900",
            source="Newswire D",
            derived_from="c-exact",
            reported_on="2024-03-02",
        ),
        _row(
            "c-deployed",
            "deployed",
            "about",
            "20000",
            source="Observer B",
            stance="neutral",
            reported_on="2024-03-15",
            period_start="",
        ),
    ]
)


@pytest.fixture(scope="module")
def result():
    from reconcile.claims import claims_from_frame
    from reconcile.config import load_config
    from reconcile.fitting import fit

    return fit(claims_from_frame(CLAIMS), load_config(), seed=3, draws=200, tune=200, chains=2, progress=False)


@pytest.fixture(scope="module")
def fit_dir(result, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fit") / "results"
    result.save(out)  # writes plots/ and report.html through outputs.write_outputs
    return out


# -- figures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [plots.plot_cumulative, plots.plot_sources, plots.plot_claims_check, plots.plot_daily_rate, plots.plot_priors],
)
def test_each_plot_returns_a_figure(result, make):
    fig = make(result)
    assert isinstance(fig, Figure)
    assert fig.axes


def test_plots_draw_into_the_axes_given(result):
    for make in (plots.plot_sources, plots.plot_claims_check, plots.plot_daily_rate):
        fig = Figure()
        ax = fig.add_subplot()
        assert make(result, ax=ax) is fig
        assert ax.lines, make.__name__
    fig = Figure()
    main, window = fig.subplots(2, 1)
    assert plots.plot_cumulative(result, "alpha", ax=(main, window)) is fig
    assert main.lines and window.lines  # the window and per-day claims go to the second axes
    fig = Figure()
    axes = fig.subplots(3, 4)
    assert plots.plot_priors(result, axes=axes) is fig
    assert sum(bool(a.patches) for a in axes.ravel()) >= 5  # one histogram per hyperparameter


def test_cumulative_corrected_and_single_population(result):
    fig = plots.plot_cumulative(result, "alpha", corrected=True)
    assert "alpha: cumulative losses since 2024-01-01" in fig.axes[0].get_title(loc="left")
    with pytest.raises(ValueError, match="not estimated"):
        plots.plot_cumulative(result, "nobody")


def test_figures_and_report_use_the_configured_names(result):
    """Display names from the configuration (a population's ``label``, ``[source_labels]``) in
    every figure's titles and legends and in the report; the codes stay in the tables' files."""
    from matplotlib.text import Text

    from reconcile.report import render_report

    config = result.config.replace(
        populations={"alpha": {"label": "The Alpha brigade"}}, source_labels={"Observer B": "Obs. B (UN)"}
    )
    named = replace(result, config=config)

    def texts(fig):
        return " | ".join(t.get_text() for t in fig.findobj(Text))

    cumulative = texts(plots.plot_cumulative(named))
    assert "The Alpha brigade: cumulative losses" in cumulative and "alpha:" not in cumulative
    assert "Obs. B (UN)" in cumulative and "Observer B" not in cumulative
    assert "The Alpha brigade: daily casualties" in texts(plots.plot_daily_rate(named))
    # the claims check names each row by source, category and report date, not by the claim's id
    rows = [t.get_text() for t in plots.plot_claims_check(named).axes[0].get_yticklabels()]
    assert "Obs. B (UN), killed, 2024-03-10" in rows and not any(r.startswith("c-") for r in rows)
    sources = texts(plots.plot_sources(named))
    assert "Obs. B (UN)" in sources and "Observer B" not in sources
    html = render_report(named, [])
    assert "Cumulative casualties of The Alpha brigade by" in html and "Obs. B (UN)" in html
    assert set(named.estimates()["population"]) == set(result.estimates()["population"])


def test_claims_check_of_a_large_war_draws_the_claims_that_most_need_a_look(result, monkeypatch):
    """Past plots.CLAIMS_CHECK_ROWS counted claims, the figure draws that many: the surprising
    ones first, then the least consistent; its title says how many of how many."""
    from reconcile import summary
    from reconcile.model import ROLE_LOSS

    check = summary.claims_check(result)
    check = check[check["role"] == ROLE_LOSS]
    n_claims, n_flagged = len(check), int((check["flag"].fillna("").astype(str) != "").sum())
    limit = max(n_flagged, 1) + 1
    assert n_claims > limit  # the fixture's war is larger than the limit set below
    monkeypatch.setattr(plots, "CLAIMS_CHECK_ROWS", limit)
    fig = plots.plot_claims_check(result)
    rows = [t for ax in fig.axes for t in ax.get_yticklabels()]
    assert len(rows) == limit
    # every surprising claim is drawn (bold, listed first), and the one other is the least consistent
    assert sum(t.get_fontweight() == "bold" for t in rows) == n_flagged
    assert all(t.get_fontweight() == "bold" for t in rows[:n_flagged])
    others = check[check["flag"].fillna("").astype(str) == ""]
    others = others.assign(surprise=(others["ppc_percentile"] - 0.5).abs())
    worst = others.sort_values(["surprise", "claim_id"], ascending=[False, True]).iloc[0]
    frame = result.inputs.claims.set_index("claim_id")
    when = pd.Timestamp(frame.loc[worst["claim_id"], "reported_on"]).strftime("%Y-%m-%d")
    assert rows[n_flagged].get_text().endswith(when)
    title = fig.axes[0].get_title(loc="left")
    assert f"{n_flagged} of {n_claims} claims surprising" in title and f"shown: the {limit} least consistent" in title


def test_save_plots_writes_five_pngs_at_print_resolution_and_five_svgs(result, tmp_path):
    from PIL import Image

    paths = plots.save_plots(result, tmp_path / "plots")
    assert sorted(p.name for p in paths) == sorted(PLOT_NAMES)
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 5000 and data.startswith(PNG_HEADER)
        with Image.open(p) as image:
            assert image.info["dpi"][0] == pytest.approx(200, abs=1)
        svg = p.with_suffix(".svg").read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<dc:date>" not in svg
        assert svg.count('id="figure-caption"') == 1, p.name  # the caption travels with the figure
    # the same figures again: the same bytes (no date, no random ids)
    again = plots.save_plots(result, tmp_path / "again")
    for p, q in zip(paths, again):
        assert p.with_suffix(".svg").read_bytes() == q.with_suffix(".svg").read_bytes()


needs_fork = pytest.mark.skipif(not plots._fork_is_safe(), reason="figures are drawn in one process here")


def _drawn_here(monkeypatch) -> list[str]:
    """The names of the figures this process draws itself (not its forked children)."""
    here: list[str] = []
    parent = os.getpid()
    real = plots._save_one

    def save_one(res, out, name):
        if os.getpid() == parent:
            here.append(name)
        return real(res, out, name)

    monkeypatch.setattr(plots, "_save_one", save_one)
    return here


@needs_fork
def test_figures_drawn_by_forked_children_are_the_same_files(result, tmp_path, monkeypatch):
    """Two processes or one: the same files, byte for byte, in the same order; with two, the
    child really drew its share (this process drew only its own)."""
    one = plots.save_plots(result, tmp_path / "one", workers=1)
    here = _drawn_here(monkeypatch)
    two = plots.save_plots(result, tmp_path / "two", workers=2)
    assert sorted(here) == sorted(plots._shares(PLOT_NAMES, 2)[0]) and len(here) < len(PLOT_NAMES)
    assert [p.name for p in one] == [p.name for p in two] == PLOT_NAMES
    for p, q in zip(one, two):
        assert p.read_bytes() == q.read_bytes(), p.name
        assert p.with_suffix(".svg").read_bytes() == q.with_suffix(".svg").read_bytes(), p.name


@needs_fork
def test_figures_started_early_are_drawn_by_children_and_the_same_files(result, tmp_path, monkeypatch):
    """``started_plots(busy=True)`` (a fit's files: the figures start before ``posterior.nc`` is
    written): every figure drawn by a child, none here, and the same files as one process's."""
    one = plots.save_plots(result, tmp_path / "one", workers=1)
    here = _drawn_here(monkeypatch)
    with plots.started_plots(result, tmp_path / "early", workers=2, busy=True) as figures:
        early = figures.finish()
    assert here == []
    assert [p.name for p in early] == PLOT_NAMES
    for p, q in zip(one, early):
        assert p.read_bytes() == q.read_bytes(), p.name
        assert p.with_suffix(".svg").read_bytes() == q.with_suffix(".svg").read_bytes(), p.name


def _all_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


EVERY_FILE = sorted([*PLOT_NAMES, *(n.replace(".png", ".svg") for n in PLOT_NAMES)])


@pytest.fixture
def cheap_figures(monkeypatch) -> None:
    """The five figures' names, each a tiny figure: the plumbing of drawing in two processes,
    without the cost of drawing the real ones (``test_figures_drawn_by_forked_children...`` draws
    those)."""

    def tiny(name):
        def make(result):
            fig = Figure(figsize=(1, 1))
            fig.text(0.5, 0.5, name)
            return fig

        return make

    monkeypatch.setattr(plots, "PLOTS", {name: tiny(name) for name in PLOT_NAMES})


@needs_fork
def test_a_child_that_fails_costs_only_time(cheap_figures, tmp_path, monkeypatch):
    """A drawing child that dies before drawing anything: its figures are drawn by the parent,
    and the set of files is whole."""
    monkeypatch.setattr(plots, "_quiet_child", lambda parent: os._exit(3))
    here = _drawn_here(monkeypatch)
    paths = plots.save_plots(None, tmp_path / "plots", workers=2)
    assert _all_files(tmp_path / "plots") == EVERY_FILE
    assert sorted(here) == sorted(PLOT_NAMES)
    assert all(p.read_bytes().startswith(PNG_HEADER) for p in paths)


@needs_fork
def test_no_process_to_fork_or_a_child_reaped_elsewhere(cheap_figures, tmp_path, monkeypatch):
    """fork() failing (no memory, a limit on processes) or a child's status lost (SIGCHLD
    ignored by the host program): the run draws those figures itself."""
    here = _drawn_here(monkeypatch)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    real_fork = os.fork
    monkeypatch.setattr(os, "fork", no_fork)
    plots.save_plots(None, tmp_path / "no-fork", workers=2)
    assert _all_files(tmp_path / "no-fork") == EVERY_FILE and sorted(here) == sorted(PLOT_NAMES)

    monkeypatch.setattr(os, "fork", real_fork)
    here.clear()
    real_waitpid = os.waitpid

    def waitpid(pid, options):
        if options == os.WNOHANG:  # someone else reaps it first
            real_waitpid(pid, 0)
            raise ChildProcessError(10, "No child processes")
        return real_waitpid(pid, options)

    monkeypatch.setattr(os, "waitpid", waitpid)
    plots.save_plots(None, tmp_path / "lost", workers=2)
    assert _all_files(tmp_path / "lost") == EVERY_FILE and sorted(here) == sorted(PLOT_NAMES)


@needs_fork
def test_a_drawing_child_dies_with_its_parent():
    """The child asks Linux for SIGKILL when its parent dies (so a killed run leaves no child
    writing into a staging directory)."""
    import ctypes
    import signal

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            plots._quiet_child(os.getppid())
            got = ctypes.c_int(0)
            ctypes.CDLL(None).prctl(2, ctypes.byref(got), 0, 0, 0)  # PR_GET_PDEATHSIG
            os.write(write, str(got.value).encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert int(answer) == signal.SIGKILL


@needs_fork
def test_an_interrupted_parent_leaves_no_child_behind(cheap_figures, forked, tmp_path, monkeypatch):
    """An interrupt raised in the parent while a child draws: the child is killed and reaped."""

    def interrupted(res, out, name):
        raise KeyboardInterrupt

    real_save = plots._save_one
    monkeypatch.setattr(
        plots, "_save_one", lambda res, out, name: (interrupted if os.getpid() == parent else real_save)(res, out, name)
    )
    parent = os.getpid()
    with pytest.raises(KeyboardInterrupt):
        plots.save_plots(None, tmp_path / "plots", workers=2)
    assert len(forked) == 1
    assert_all_reaped(forked)  # nothing left running or unreaped


@needs_fork
def test_a_signal_while_forking_leaves_no_child_behind(cheap_figures, ctrl_c_after_each_fork, tmp_path):
    """Ctrl-C arriving while the drawing child is forked is handled once the child is registered:
    the interrupted run kills and reaps it."""
    with pytest.raises(KeyboardInterrupt):
        plots.save_plots(None, tmp_path / "plots", workers=2)
    assert len(ctrl_c_after_each_fork) == 1
    assert_all_reaped(ctrl_c_after_each_fork)


def test_plot_workers_env_and_threads(monkeypatch):
    import threading

    monkeypatch.setattr(plots, "_fork_is_safe", lambda: True)
    monkeypatch.setenv(plots.PLOT_WORKERS_ENV, "1")
    assert plots.plot_workers() == 1
    monkeypatch.setenv(plots.PLOT_WORKERS_ENV, "3")
    assert plots.plot_workers() == 3
    monkeypatch.setenv(plots.PLOT_WORKERS_ENV, "many")
    assert plots.plot_workers() == 1
    monkeypatch.undo()
    monkeypatch.setenv(plots.PLOT_WORKERS_ENV, "3")
    seen: list[tuple[bool, int]] = []
    worker = threading.Thread(target=lambda: seen.append((plots._fork_is_safe(), plots.plot_workers())))
    worker.start()
    worker.join()
    assert seen == [(False, 1)]  # never forks from a thread other than the main one, whatever is asked


def test_shares_balance_the_drawing_time():
    assert plots._shares(PLOT_NAMES, 2) == [
        ["cumulative.png", "sources.png"],
        ["priors.png", "daily_rate.png", "claims_check.png"],
    ]
    assert plots._shares(PLOT_NAMES, 1) == [sorted(PLOT_NAMES, key=lambda k: -plots._COST.get(k, 0.5))]
    assert sorted(sum(plots._shares(PLOT_NAMES, 9), [])) == sorted(PLOT_NAMES)


def _legend_texts(ax_or_legend) -> list[str]:
    legend = ax_or_legend.get_legend() if hasattr(ax_or_legend, "get_legend") else ax_or_legend
    return [" ".join(t.get_text().split()) for t in legend.get_texts()] if legend else []


def _sources_of(result, kinds) -> set[str]:
    frame = result.inputs.claims
    drawn = frame[frame.apply(plots._claim_kind, axis=1).isin(kinds)]
    return {result.config.source_label(s) for s in drawn["source"]}


def test_cumulative_has_a_legend_per_panel_of_the_sources_drawn_in_it(result):
    """Issue 22: each panel lists the sources whose marks it shows, and only those, whole; a
    source has the same colour and marker in every panel."""
    fig = plots.plot_cumulative(result)
    main, window = fig.axes  # one population: its cumulative panel and its window panel
    in_main, in_window = _sources_of(result, ["cumulative", "bound"]), _sources_of(result, ["window"])
    assert in_window == {"Observer B"} and "Observer B" in in_main and len(in_main) == 4
    assert set(_legend_texts(main)) == in_main
    assert set(_legend_texts(window)) == in_window
    assert "Newswire D" not in _legend_texts(main) + _legend_texts(window)  # a relay: not drawn
    assert not fig.legends or not any(t in in_main for t in _legend_texts(fig.legends[0]))
    # a legend entry has the colour and marker of the marks it names, the same in both panels
    styles = plots._source_styles(result)
    for ax in (main, window):
        colours = {
            matplotlib.colors.to_hex(c)
            for line in ax.lines
            for c in (line.get_color(), line.get_markeredgecolor(), line.get_markerfacecolor())
        }
        for handle in ax.get_legend().legend_handles:
            source = next(s for s, st in styles.items() if st["label"] == " ".join(handle.get_label().split()))
            assert handle.get_color() == styles[source]["color"] and handle.get_marker() == styles[source]["marker"]
            assert styles[source]["color"].lower() in colours


def test_legends_keep_long_source_names_whole(result):
    name = "The Observatory of Very Long Names for Sources, Geneva Office"
    named = replace(result, config=result.config.replace(source_labels={"Observer B": name}))
    fig = plots.plot_cumulative(named)
    for ax in fig.axes:
        assert name in _legend_texts(ax)
    assert name in _legend_texts(plots.plot_daily_rate(named).axes[0])


def test_window_panel_draws_one_row_per_claim_with_what_it_says(result):
    """Window and daily claims never overlap: one row each, the model's interval and the stated
    figure on it, and what the claim says (category, figure, source, window) beside it."""
    fig = Figure()
    main, window = fig.subplots(2, 1)
    plots.plot_cumulative(result, "alpha", ax=(main, window))
    model_bars = [line for line in window.lines if matplotlib.colors.to_hex(line.get_color()) == "#a8a8a8"]
    rows = sorted(float(line.get_ydata()[0]) for line in model_bars)
    assert rows == [0.0, 1.0]  # c-window (March), then c-per-day (April)
    texts = [t.get_text() for t in window.texts]
    assert texts[:2] == ["casualties ~300", "Observer B · 1–31 Mar 2024"]
    assert texts[2:] == ["casualties 12/day", "Observer B · 1–30 Apr 2024"]
    assert window.get_yticks().size == 0 and window.get_ylim() == (1.5, -0.5)
    # the window panel's own key, beside it
    assert {"model: 90% interval for the window", "model: median for the window"} <= set(_legend_texts(window))


def test_every_count_axis_is_logarithmic(result):
    """One axis convention (issue 22): counts on a log scale in every panel, whatever their range."""
    fig = plots.plot_cumulative(result)
    main, window = fig.axes
    assert main.get_yscale() == "log" and window.get_xscale() == "log"
    fig = plots.plot_daily_rate(result)
    assert fig.axes and all(ax.get_yscale() == "log" for ax in fig.axes)
    for make in (plots.plot_daily_rate, plots.plot_claims_check, plots.plot_sources):
        ax = Figure().add_subplot()
        make(result, ax=ax)
        assert "log" in (ax.get_xscale(), ax.get_yscale()), make.__name__
    fig = Figure()
    main, window = fig.subplots(2, 1)
    plots.plot_cumulative(result, "alpha", ax=(main, window))
    assert main.get_yscale() == "log" and window.get_xscale() == "log"


@pytest.mark.parametrize("name", [n.removesuffix(".png") for n in PLOT_NAMES])
def test_each_figure_carries_its_caption_below_everything_else(result, name):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = getattr(plots, f"plot_{name}")(result)
    captions = [t for t in fig.texts if t.get_gid() == "figure-caption"]
    assert len(captions) == 1
    assert " ".join(captions[0].get_text().split()) == " ".join(plots.CAPTIONS[name].split())
    if name in ("cumulative", "daily_rate", "claims_check"):
        assert "log scale" in plots.CAPTIONS[name] and "equal distances are equal ratios" in plots.CAPTIONS[name]
    # within the figure's width, under every axes (tick labels included) and the figure's legends
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = captions[0].get_window_extent(renderer)
    assert 0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0
    for other in [*fig.axes, *fig.legends]:
        if other.get_visible():
            assert box.y1 <= other.get_tightbbox(renderer).y0 + 1, other


def test_no_caption_in_a_figure_the_caller_made(result):
    for make in (plots.plot_sources, plots.plot_claims_check, plots.plot_daily_rate):
        fig = Figure()
        make(result, ax=fig.add_subplot())
        assert not [t for t in fig.texts if t.get_gid() == "figure-caption"], make.__name__


# -- report ----------------------------------------------------------------------------------------


def test_report_captions_are_the_figures_own(fit_dir):
    from markupsafe import escape

    page = (fit_dir / "report.html").read_text(encoding="utf-8")
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert sorted(captions) == sorted(str(escape(c)) for c in plots.CAPTIONS.values())


def test_report_is_self_contained_and_escaped(result, fit_dir):
    page = (fit_dir / "report.html").read_text(encoding="utf-8")
    svgs = [n.replace(".png", ".svg") for n in PLOT_NAMES]
    assert sorted(p.name for p in (fit_dir / "plots").iterdir()) == sorted(PLOT_NAMES + svgs)
    # self-contained: every image is embedded, nothing is fetched
    assert 'src="http' not in page and "<link" not in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 5 and all(src.startswith("data:image/png;base64,") for src in images)
    # claims text is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    # the only scripts: the interactive view's data (no "<" in it) and the package's own script
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert page.count("<script") == len(scripts) == 2
    assert scripts[0][0] == ' type="application/json" id="cumulative-data"' and "<" not in scripts[0][1]
    assert scripts[1] == ("", interactive.view_script())
    assert "Source &lt;b&gt;C&lt;/b&gt;" in page and "Ministry A &amp; Partners" in page
    # the verdict, the assumption, provenance and every claim
    assert result.diagnostics.verdict().split(":")[0] in page
    if not result.diagnostics.converged:
        assert 'class="verdict bad"' in page
    assert result.config.describe_identification().replace("'", "&#39;") in page
    assert result.claims.sha256 in page
    for claim_id in CLAIMS["claim_id"]:
        assert claim_id in page
    assert "not counted (relay of c-exact)" in page
    assert re.search(
        r"Cumulative casualties of alpha by \d{4}-\d{2}-\d{2}: median [\d,]+, 90% interval \[[\d,]+, [\d,]+\]\.", page
    )


def test_report_reads_on_a_narrow_screen_and_explains_its_configuration(result, fit_dir):
    page = (fit_dir / "report.html").read_text(encoding="utf-8")
    # every table can scroll sideways on its own (a phone), instead of pushing the page wider
    assert page.count("<table>") == page.count('<div class="table-scroll"><table>') > 0
    assert "@media (max-width: 40rem)" in page and "@media print" in page
    # every figure says in words what it shows
    alts = re.findall(r'<img src="[^"]+" alt="([^"]+)"', page)
    assert len(alts) == 5 and all(len(alt) > 40 for alt in alts)
    # the configuration: what differs from the defaults as a table (the short sampling here), the
    # whole JSON folded away
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td>([^<]+)</td><td>([^<]+)</td></tr>", page)
    assert ("sampler.draws", "200", "1000") in rows and not any(key.startswith("priors.") for key, _, _ in rows)
    assert re.search(r"<details><summary>[^<]+</summary>\s*<pre>\{", page)


def test_report_lists_the_settings_that_differ_from_the_defaults(result):
    changed = replace(result, config=result.config.replace(priors={"group_sd": 0.4}, sampler={"draws": 200}))
    page = render_report(changed)
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td>([^<]+)</td><td>([^<]+)</td></tr>", page)
    assert ("priors.group_sd", "0.4", "0.2") in rows
    assert [key for key, _, _ in rows if key.startswith("priors.")] == ["priors.group_sd"]


def _need_chromium():
    if browser.chromium() is None:
        if os.environ.get("RECONCILE_REQUIRE_BROWSER"):
            pytest.fail("RECONCILE_REQUIRE_BROWSER is set but no Chromium is on PATH")
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium package)")


@pytest.mark.parametrize("width", [420, 1280])
def test_report_in_a_real_browser(fit_dir, tmp_path, width):
    """The report as a reader sees it, in headless Chromium: at a phone's width and a laptop's,
    nothing pushes the page sideways (tables and figures scroll in their own boxes), every figure
    loads, and the page fetches nothing. Screenshots land in the test's temporary directory."""
    _need_chromium()
    page = (fit_dir / "report.html").read_text(encoding="utf-8")
    seen = browser.inspect(page, width, tmp_path)
    assert seen["viewport"] == width
    assert seen["wide"] == [] and seen["scroll_width"] <= width, seen
    assert seen["images"] == 5 and seen["broken"] == 0
    assert seen["requests"] == []
    # the interactive view is drawn: a chart per population, a mark per claim on a cumulative
    # scale; a tap on a mark shows its source and quote inside the page's width, a tap elsewhere
    # closes it, and pointing at the curves gives the date and the bands' values
    data = _view_json(page)
    view = seen["interactive"]
    assert view["hidden"] is False and view["nav_hidden"] is False
    assert view["charts"] == len(data["populations"]) == 1
    claims = data["populations"][0]["claims"]
    assert view["marks"] == len(claims) > 0
    first = claims[0]
    assert data["sources"][first["source"]]["label"] in view["tip"] and first["quote"] in view["tip"]
    assert first["reported"] in view["tip"] and first["citation"] in view["tip"]
    assert 0 <= view["tip_left"] < view["tip_right"] <= width and view["scroll_width_tip"] <= width, view
    assert view["tip_closed"] is True
    assert (
        view["curve_tip"].startswith("alpha, by 20")
        and "casualties" in view["curve_tip"]
        and "90%" in view["curve_tip"]
    )
    assert seen["screenshot"].stat().st_size > 10_000
    print(f"screenshot: {seen['screenshot']}")


def test_the_browser_probe_sees_what_it_checks(tmp_path):
    """The probe behind the test above is not blind: a page with a wide block, a broken image and
    a request to a remote host is reported as such."""
    _need_chromium()
    page = (
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width"></head><body>'
        '<div style="width:900px">wide</div><img src="data:image/png;base64,AAAA" alt="broken">'
        '<img src="https://example.invalid/x.png" alt="remote"></body></html>'
    )
    seen = browser.inspect(page, 420, tmp_path)
    assert seen["viewport"] == 420 and seen["scroll_width"] > 420 and "div" in seen["wide"]
    assert seen["images"] == 2 and seen["broken"] == 2
    assert seen["requests"] == ["https://example.invalid/x.png"]
    assert seen["interactive"] is None


# -- the interactive cumulative view ---------------------------------------------------------------

HOSTILE = '</script><img src=x onerror=alert(1)> & "quoted" \u2028 <!-- Ça coûte ≥ 5 €'


def _view_json(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="cumulative-data">(.*?)</script>', page, flags=re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_interactive_view_data_are_the_fits(result):
    """The view draws the fit's own numbers: the bands of every category by date (four
    significant digits), the claims on a cumulative scale with their text, the static figure's
    source colours."""
    from reconcile import summary
    from reconcile.model import CATEGORIES

    data = interactive.view_data(result)
    assert data["categories"] == list(CATEGORIES)
    est = summary.estimates(result)
    (pop,) = data["populations"]
    assert pop["id"] == "alpha" and pop["label"] == result.config.population_label("alpha")
    for category in CATEGORIES:
        rows = est[(est["population"] == "alpha") & (est["category"] == category)]
        assert pop["dates"] == list(rows["date"])
        for q in ("q05", "q25", "q50", "q75", "q95"):
            assert pop["bands"][category][q] == pytest.approx(list(rows[q]), rel=5e-4)
    # the claims since the start and the strengths that bound them; no window, relay or daily one
    frame = result.inputs.claims.set_index("claim_id")
    assert [c["id"] for c in pop["claims"]] == [
        "c-exact",
        "c-about",
        "c-at-least",
        "c-more-than",
        "c-at-most",
        "c-fewer-than",
        "c-range",
        "c-vague",
        "c-deployed",
    ]
    assert pop["n_window"] == 2
    by_id = {c["id"]: c for c in pop["claims"]}
    exact = by_id["c-exact"]
    assert exact["quote"] == f"About 900 casualties {SCRIPT} & more." and exact["source"] == "Ministry A & Partners"
    assert (exact["low"], exact["high"], exact["qualifier"], exact["kind"]) == (900, 900, "exact", "cumulative")
    assert exact["citation"] == "https://example.org/c-exact" and exact["url"] is True
    assert exact["reported"] == "2024-03-01" and exact["date"] == f"{frame.loc['c-exact', 'period_end']:%Y-%m-%d}"
    assert by_id["c-at-least"]["high"] is None and by_id["c-at-least"]["stated"] == "at least 1,200"
    assert by_id["c-range"]["stated"] == "1,400 to 2,200" and by_id["c-deployed"]["kind"] == "bound"
    styles = plots._source_styles(result)
    assert {s: (v["color"], v["marker"]) for s, v in data["sources"].items()} == {
        s: (v["color"], v["marker"]) for s, v in styles.items()
    }
    assert data["sources"]["Source <b>C</b>"]["label"] == result.config.source_label("Source <b>C</b>")


def test_interactive_view_is_in_the_page_safely_and_deterministically(result, fit_dir):
    page = render_report(result)
    assert _view_json(page) == json.loads(json.dumps(interactive.view_data(result)))
    # the same fit gives the same bytes: rendered again, and from the saved fit
    assert render_report(result) == page
    assert _view_json((fit_dir / "report.html").read_text(encoding="utf-8")) == _view_json(page)
    assert interactive.view_json(interactive.view_data(result)) == interactive.view_json(interactive.view_data(result))
    # the view sits right after the static cumulative figure, whose PNG stays for print and no script
    # (hidden, as its entry in the contents, until the script shows them; hidden in print)
    assert 'id="interactive" hidden' in page and "#interactive { display: none; }" in page
    assert '<li id="interactive-nav" hidden><a href="#interactive">' in page


def test_interactive_view_escapes_a_hostile_quote(result):
    frame = result.inputs.claims.copy()
    frame.loc[frame["claim_id"] == "c-range", "quote"] = HOSTILE
    frame.loc[frame["claim_id"] == "c-range", "citation"] = 'javascript:alert(1)//"><b>'
    hostile = replace(result, inputs=replace(result.inputs, claims=frame))
    page = render_report(hostile)
    found = re.search(r'<script type="application/json" id="cumulative-data">(.*?)</script>', page, flags=re.S)
    assert found is not None
    text = found.group(1)
    assert not set("<>&\u2028\u2029") & set(text)
    assert "\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e \\u0026" in text
    claim = next(c for c in json.loads(text)["populations"][0]["claims"] if c["id"] == "c-range")
    assert claim["quote"] == HOSTILE  # read back whole, non-ASCII included
    assert claim["url"] is False  # a "javascript:" citation is text, never a link
    assert "<img src=x" not in page and page.count("<script") == 2
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quoted&#34;" in page  # "Every claim"


def test_interactive_json_escapes_what_would_end_a_script():
    text = interactive.view_json({"b": "</script><!-- & \u2028\u2029", "a": [1.5, None]})
    assert text == '{"a":[1.5,null],"b":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029"}'
    assert json.loads(text)["b"] == "</script><!-- & \u2028\u2029"
    script = interactive.view_script().lower()
    assert "</" not in script and "<!--" not in script and "<script" not in script


def test_render_report_without_figures(result):
    page = render_report(result)
    assert "<img" not in page and "&lt;script&gt;" in page


# -- reconcile report DIR --------------------------------------------------------------------------


def test_cli_report_rebuilds_from_posterior_alone(fit_dir, tmp_path, capsys):
    from reconcile.cli import main

    work = tmp_path / "copy"
    work.mkdir()
    shutil.copy(fit_dir / "posterior.nc", work / "posterior.nc")
    assert main(["report", str(work)]) == 0
    assert (work / "report.html").stat().st_size > 10_000
    for name in PLOT_NAMES:
        assert (work / "plots" / name).read_bytes().startswith(PNG_HEADER)
    # no staging left: the only hidden entry is the store, with one set of results
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == [".reconcile"]
    assert len(list((work / ".reconcile").iterdir())) == 3
    assert "report.html" in capsys.readouterr().out
    # the provenance stored at fitting time, not that of the rebuilt objects (issue 18)
    page = (work / "report.html").read_text(encoding="utf-8")
    assert "package defaults" in page and "saved fit" not in page


def test_cli_report_missing_dir_or_posterior(tmp_path, capsys):
    from reconcile.cli import main

    assert main(["report", str(tmp_path / "nowhere")]) == 66
    assert "no such directory" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 66
    assert "posterior.nc" in capsys.readouterr().err


def test_cli_report_garbage_posterior(tmp_path, capsys):
    from reconcile.cli import main

    (tmp_path / "posterior.nc").write_bytes(b"this is not NetCDF at all\n")
    assert main(["report", str(tmp_path)]) == 65
    err = capsys.readouterr().err
    assert "posterior.nc" in err and "Traceback" not in err
    assert not (tmp_path / "report.html").exists()


def test_sources_get_distinct_colours_up_to_twelve_then_new_marker_shapes(result):
    """Each of the first twelve sources has its own colour (seven Okabe-Ito with a dot, five more
    with a square, so the shape separates them for a colour-blind reader), and beyond twelve the
    colours repeat with a new marker: no two sources share a colour and marker."""
    claims = result.inputs.claims
    n = 40
    many = pd.concat([claims.iloc[[0]]] * n, ignore_index=True)
    many["source"] = [f"Source {k:02d}" for k in range(n)]
    styles = plots._source_styles(replace(result, inputs=replace(result.inputs, claims=many)))
    ordered = sorted(styles.values(), key=lambda st: st["rank"])
    assert len({st["color"] for st in ordered[:12]}) == 12
    assert {st["marker"] for st in ordered[:7]} == {"o"} and {st["marker"] for st in ordered[7:12]} == {"s"}
    assert {st["color"] for st in ordered[:7]} == set(plots.OKABE_ITO[:7])
    assert len({(st["color"], st["marker"]) for st in ordered}) == n
    assert all(st["label"] == f"Source {k:02d}" for k, st in enumerate(ordered))


@pytest.mark.parametrize("one_group", [False, True])
def test_a_prior_driven_panel_says_why_its_bands_are_wide(result, one_group):
    """A population whose estimate rests on the prior carries the reason in its panel, and one that
    does not carries none (the same fit with every claim from one source group: flagged)."""
    from reconcile import summary

    if one_group:
        claims = result.inputs.claims.assign(source_group="one_group")
        result = replace(result, inputs=replace(result.inputs, claims=claims))
    flags = summary.population_flags(result).set_index("population")
    assert flags["prior_driven"].all() or not one_group
    fig = plots.plot_cumulative(result)
    texts = [" ".join(t.get_text().split()) for ax in fig.axes for t in ax.texts]
    noted = [t for t in texts if t.startswith("Rests on the prior")]
    assert len(noted) == int(flags["prior_driven"].sum())
    for reason in flags.loc[flags["prior_driven"], "reason"]:
        assert any(" ".join(reason.split()) in t for t in noted)


def test_a_prior_driven_reason_names_sources_by_their_labels(result):
    from reconcile import summary

    claims = result.inputs.claims.assign(source_group="one_group")
    named = replace(
        result,
        inputs=replace(result.inputs, claims=claims),
        config=result.config.replace(source_labels={"Observer B": "Obs. B"}),
    )
    reasons = " ".join(summary.population_flags(named)["reason"])
    assert "Obs. B" in reasons and "Observer B" not in reasons


def _fake_cgroups(tmp_path, monkeypatch, proc_text: str):
    """A 4-CPU host whose cgroup files live under ``tmp_path``: (the cgroup root, the file read as
    /proc/self/cgroup, holding ``proc_text``)."""
    from reconcile import _fork

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    root = tmp_path / "cgroup"
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(proc_text)
    monkeypatch.setattr(_fork, "CGROUP_ROOT", str(root))
    monkeypatch.setattr(_fork, "PROC_CGROUP", str(proc))
    return root, proc


def test_cpus_reads_a_containers_quota(tmp_path, monkeypatch):
    """A container allowed 1.5 CPUs on a 4-CPU host keeps one busy: no drawing child. The
    smallest quota on the way from the process's group to the root holds; no quota, or one that
    cannot be read: the CPUs it may run on."""
    from reconcile import _fork

    root, proc = _fake_cgroups(tmp_path, monkeypatch, "0::/machine/job\n")
    group = root / "machine" / "job"
    group.mkdir(parents=True)
    assert _fork.cpus() == 4  # no cpu.max anywhere
    for text, want in [("max 100000\n", 4), ("150000 100000\n", 1), ("200000 100000\n", 2), ("900000 100000", 4)]:
        (group / "cpu.max").write_text(text)
        assert _fork.cpus() == want, text
    (group / "cpu.max").write_text("garbage")
    assert _fork.cpus() == 4
    (group / "cpu.max").write_text("max 100000\n")
    (root / "machine" / "cpu.max").write_text("150000 100000\n")  # the parent group's quota holds
    assert _fork.cpus() == 1
    proc.write_text("garbage\n")  # its group unknown: the root's (none)
    assert _fork.cpus() == 4
    proc.write_text("0::/machine/job\n")
    monkeypatch.setattr(plots, "_fork_is_safe", lambda: True)
    monkeypatch.delenv(plots.PLOT_WORKERS_ENV, raising=False)
    assert plots.plot_workers() == 1


def test_cpus_reads_a_cgroup_v1_quota(tmp_path, monkeypatch):
    """On a cgroup v1 host the ``cpu`` controller's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
    hold the quota (-1: none): read in the process's group and above, or, in a container whose
    /proc names the host's path, from the mount's top."""
    from reconcile import _fork

    root, proc = _fake_cgroups(
        tmp_path, monkeypatch, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"
    )
    mount = root / "cpu,cpuacct"
    group = mount / "docker" / "abc"
    group.mkdir(parents=True)

    def quota(directory, us):
        (directory / "cpu.cfs_quota_us").write_text(f"{us}\n")
        (directory / "cpu.cfs_period_us").write_text("100000\n")

    assert _fork.cpus() == 4  # no quota files
    for us, want in [(-1, 4), (150000, 1), (200000, 2), (900000, 4)]:
        quota(group, us)
        assert _fork.cpus() == want, us
    quota(group, -1)
    quota(mount / "docker", 150000)  # the parent group's quota holds
    assert _fork.cpus() == 1
    # inside a container: /proc names the host's group, the mount's top is the container's own
    proc.write_text("4:cpu,cpuacct:/kubepods/pod1/xyz\n")
    quota(mount, 200000)
    assert _fork.cpus() == 2
    for text in ("garbage", ""):  # unreadable: no quota
        (mount / "cpu.cfs_quota_us").write_text(text)
        assert _fork.cpus() == 4


def test_the_laid_out_figure_has_rounded_positions(result):
    """The daily-rate figure's constrained layout rounds every Axes' position to 1e-9 of the
    figure, so the solver's run-to-run last bits never reach the SVG's sixth decimal (4 different
    ``daily_rate.svg`` in 10 fits of the same claims and seed before)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plots.plot_daily_rate(result)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    bounds = [v for ax in fig.axes for v in ax.get_position().bounds]
    assert bounds and all(round(v, 9) == v for v in bounds)
    fig.clear()
