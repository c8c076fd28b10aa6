from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

CASES = Path(__file__).parent / "cases"


def load_cases(name: str):
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    return CASES


def merge_case(base: dict, over: dict) -> dict:
    """A case's shipment laid over a file's defaults, nested dicts merged key by key."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge_case(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
