"""Supply-shock Monte Carlo: 10,000 draws x 5 years, vectorised against a naive per-draw Python loop.

    python benchmarks/bench_shock.py                       # 10,000 draws, 2026-2030, both shipped scenarios
    python benchmarks/bench_shock.py --draws 100000 --repeat 3

Both paths use the same drawn inputs (carveout.shock.model.draw) and must give the same numbers (checked).
Prints one JSON object per scenario: the full ``simulate()`` (draws, arrays, summary quantiles and the
Polars frames of every draw), the array core alone, the naive loop, and the ratio naive / core.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from carveout.shock.model import compute, draw, inputs, load_params, needed, simulate


def naive(params: dict, sc: dict, x: dict[str, np.ndarray], yr: np.ndarray) -> dict[str, np.ndarray]:
    """The same equations, one draw and one year at a time in plain Python."""
    n = len(next(iter(x.values())))
    markets = list(params["markets"])
    out = {m: np.zeros((n, yr.size)) for m in markets}
    price = {m: np.zeros((n, yr.size)) for m in markets}
    start = int(sc.get("start_year", yr[0]))
    for i in range(n):
        for j, y in enumerate(yr):
            k = max(y - start + 1, 0)
            lost = dict.fromkeys(markets, 0.0)
            for f in sc.get("fabs", []):
                m = params["fabs"][f]["market"]
                cf = (1 + x[f"fabs.{f}.upgrade_bit_growth"][i]) ** k
                keep = (1 - x[f"fabs.{f}.attrition_per_year"][i]) ** k if sc.get("attrition") else 1.0
                act = (1.0 if sc.get("upgrades_blocked") else cf) * keep
                lost[m] += x[f"fabs.{f}.global_bit_share"][i] * (cf - act)
            for mat in sc.get("materials", []):
                if k >= 1:
                    first = 1 - x[f"materials.{mat}.buffer_years"][i] if k == 1 else 1.0
                    path = first * (1 - x[f"materials.{mat}.substitution_per_year"][i]) ** (k - 1)
                    for m in markets:
                        lost[m] += (x[f"korean_share.{m}"][i] * x[f"materials.{mat}.china_import_share"][i]
                                    * x[f"materials.{mat}.criticality"][i] * path)
            for m in markets:
                g = x[f"markets.{m}.supply_growth"][i]
                share = lost[m] / (1 + g) ** k * (1 - x["offset_per_year"][i]) ** max(k - 1, 0)
                share = min(max(share, 0.0), 0.99)
                out[m][i, j] = share
                price[m][i, j] = (1 - share) ** (-x[f"markets.{m}.price_flexibility"][i]) - 1
    return {"share": out, "price": price}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--years", default="2026:2030")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20261201)
    a = ap.parse_args()
    y0, y1 = (int(v) for v in a.years.split(":"))
    yr = np.arange(y0, y1 + 1)
    params = load_params()
    for name in ("veu_revoked_no_replacement", "prc_materials_cutoff"):
        sc = params["scenarios"][name]
        x = draw(inputs(params), needed(params, sc), a.draws, a.seed)
        vec = compute(params, sc, x, yr)
        t0 = time.perf_counter()
        slow = naive(params, sc, x, yr)
        t_naive = time.perf_counter() - t0
        for m in params["markets"]:
            assert np.allclose(vec["share"][m], slow["share"][m]) and np.allclose(vec["price"][m], slow["price"][m])
        t_core = best(lambda sc=sc, x=x: compute(params, sc, x, yr), a.repeat)
        t_full = best(lambda name=name: simulate(name, (y0, y1), a.draws, a.seed, params), a.repeat)
        print(json.dumps(dict(
            scenario=name, draws=a.draws, years=int(yr.size), simulate_s=round(t_full, 4),
            core_s=round(t_core, 5), naive_loop_s=round(t_naive, 3),
            ratio_naive_over_core=round(t_naive / t_core, 1), ratio_naive_over_simulate=round(t_naive / t_full, 1),
            under_one_second=t_full < 1.0, same_numbers=True,
        )))


if __name__ == "__main__":
    main()
