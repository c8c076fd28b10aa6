"""Scenario sweeps of the shock model: many (scenario, input overrides) jobs, run serially, in a local
process pool, or on a Dask cluster (``executor="dask"``, like the frontier's ``scenarios/frontier.py``).

Each job is one ``simulate`` call and returns its summary tables only (not the draws), so the data sent
back from the workers stays small.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Job:
    scenario: str
    label: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    years: tuple[int, int] = (2026, 2030)
    draws: int = 10_000
    seed: int = 0
    params: dict | None = None


def run_job(job: Job) -> pl.DataFrame:
    from carveout.shock.model import simulate

    r = simulate(job.scenario, job.years, job.draws, job.seed, job.params, job.overrides)
    return r.markets.with_columns(scenario=pl.lit(job.scenario), label=pl.lit(job.label or job.scenario))


def sweep(jobs: list[Job], executor: str = "serial", scheduler: Any = None, workers: int | None = None
          ) -> pl.DataFrame:
    """Run every job; one frame of per-market, per-year summaries with ``scenario`` and ``label``."""
    if executor == "serial":
        parts = [run_job(j) for j in jobs]
    elif executor == "local":
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run_job, jobs))
    elif executor == "dask":
        parts = _run_dask(jobs, scheduler)
    else:
        raise ValueError(f"unknown executor {executor!r} (serial, local, dask)")
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def _run_dask(jobs: list[Job], scheduler: Any) -> list[pl.DataFrame]:
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - optional extra
        raise RuntimeError("executor 'dask' needs the 'scale' extra: pip install 'carveout[scale]'") from e
    own = not hasattr(scheduler, "submit")
    client = Client(scheduler) if own else scheduler
    try:
        return client.gather(client.map(run_job, jobs, pure=False))
    finally:
        if own:
            client.close()
