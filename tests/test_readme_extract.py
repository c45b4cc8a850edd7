"""The shell commands of the README's `reconcile extract` section run as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _extract_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## From articles to claims: `reconcile extract`")
    section = text[start : text.index("\n## ", start + 3)]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_section_has_commands():
    assert len(_extract_blocks()) >= 2


@pytest.mark.parametrize("block", _extract_blocks())
def test_readme_extract_command_runs(tmp_path, block):
    # a copy of what the commands read, laid out as in the repository
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "tests" / "data", tmp_path / "tests" / "data")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(["bash", "-e", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    written = re.findall(r"--out (\S+)", block)
    for name in written:
        assert (tmp_path / name).stat().st_size > 0
