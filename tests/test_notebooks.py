"""The notebooks run from top to bottom (with few draws), so they never rot."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


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


@pytest.mark.slow  # real fits with a cold compile each (the third notebook: a backtest)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path, monkeypatch):
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    shutil.copy(path, workdir / path.name)
    for folder in ("data", "models", "analyses"):  # the notebooks read ../data, ../models, ../analyses
        shutil.copytree(path.parent.parent / folder, tmp_path / folder)
    monkeypatch.setenv("RECONCILE_NOTEBOOK_DRAWS", "200")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(workdir / path.name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
