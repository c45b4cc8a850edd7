"""The notebooks are what `notebooks/make_notebooks.py` writes, and their stored outputs are what
the code produces today: the slow test executes each one as it was built (same draws, same seeds)
and compares every text output with the stored one."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REBUILD = "rebuild it with `python notebooks/make_notebooks.py {name}` and commit the result"


def _maker():
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "notebooks" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_are_stored_with_their_outputs():
    assert len(NOTEBOOKS) >= 3
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.get("execution_count") for c in code), f"{path.name}: not executed"
        images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
        assert images, f"{path.name}: no figure stored"
        stderr = [o.text for c in code for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{path.name}: library chatter in the outputs: {stderr}"


def test_notebooks_are_what_the_script_writes():
    """Every stored cell (code and text) is the cell `make_notebooks.py` defines today."""
    defined = _maker().NOTEBOOKS
    assert sorted(defined) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        stored = nbformat.read(path, as_version=4).cells
        cells = defined[path.name]
        assert [(c.cell_type, c.source) for c in stored] == [(c.cell_type, c.source) for c in cells], (
            f"{path.name} differs from make_notebooks.py: " + REBUILD.format(name=path.name)
        )


_VOLATILE = [
    (re.compile(r"/tmp/[^\s'\"),]+"), "<tmp>"),  # temporary directories
    (re.compile(r" at 0x[0-9a-f]+"), " at <address>"),  # object reprs
]


def _text_outputs(cell) -> list[str]:
    """A code cell's outputs as text (streams and text/plain; figures are compared by their
    existence, not their bytes), with temporary paths and addresses masked."""
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            text = o.text
        elif o.output_type in ("execute_result", "display_data"):
            text = o.get("data", {}).get("text/plain", "") + ("[figure]" if "image/png" in o.get("data", {}) else "")
        else:
            text = f"[{o.output_type}] {o.get('ename', '')}: {o.get('evalue', '')}"
        for pattern, replacement in _VOLATILE:
            text = pattern.sub(replacement, text)
        out.append(text)
    return out


@pytest.mark.slow  # real fits with a cold compile each (the third notebook: a backtest)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_are_current(path, tmp_path, monkeypatch):
    """Executed as it was built (the draws and seeds it was stored with), each notebook prints
    exactly what it stores: the stored outputs are not stale."""
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    shutil.copy(path, workdir / path.name)
    for folder in ("data", "models", "analyses"):  # the notebooks read ../data, ../models, ../analyses
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.delenv("RECONCILE_NOTEBOOK_DRAWS", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    stored = nbformat.read(path, as_version=4)
    nb = nbformat.read(workdir / path.name, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    for number, (old, new) in enumerate(zip(stored.cells, nb.cells)):
        if old.cell_type == "code":
            assert _text_outputs(new) == _text_outputs(old), (
                f"{path.name}, cell {number} ({old.source.splitlines()[0]!r}): the stored output is stale; "
                + REBUILD.format(name=path.name)
            )
