"""``carveout check`` and ``carveout classify`` start without the heavy libraries: Altair (report), FastAPI
(service) and pypinyin (screening) load only in the commands that need them. Checked on the real command
in a fresh interpreter with ``-X importtime``, which lists every module imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("altair", "fastapi", "pypinyin")


def _imported(args: list[str], tmp_path: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "carveout.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    mods = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
            if line.startswith("import time:")}
    return mods, proc


@pytest.mark.parametrize("end_user", [
    {"name": "Acme Cloud", "country": "CN", "listed": False},  # listed stated: nothing to screen
    {"country": "CN"},  # no name: nothing to screen
])
def test_check_starts_without_heavy_modules(tmp_path, end_user):
    txn = dict(date="2025-03-01", destination="CN", ship_from="US", end_use="datacenter", end_user=end_user,
               item=dict(kind="ic", tpp=5000, die_area_mm2=800, marketed_for_datacenter=True))
    (tmp_path / "t.json").write_text(json.dumps(txn))
    mods, proc = _imported(["check", "t.json", "--format", "json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["license_required"] == "yes"
    assert "polars" in mods  # the trace is real
    assert not mods & set(HEAVY), mods & set(HEAVY)


def test_classify_starts_without_heavy_modules(tmp_path):
    (tmp_path / "i.json").write_text(json.dumps(dict(kind="ic", tpp=5000, die_area_mm2=800)))
    mods, proc = _imported(["classify", "i.json", "--as-of", "2025-03-01", "--format", "json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "3A090" in proc.stdout
    assert not mods & set(HEAVY), mods & set(HEAVY)


def test_lazy_commands_are_still_there(tmp_path):
    """The help lists the commands mounted lazily, and one of them runs (and loads its libraries)."""
    mods, proc = _imported(["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("screen", "lists", "scenario", "serve", "audit"):
        assert name in proc.stdout
    mods, proc = _imported(["screen", "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pypinyin" in mods
