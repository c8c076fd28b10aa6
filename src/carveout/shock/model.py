"""The vectorised shock model (NumPy arrays of shape draws x years; no Python loop over draws).

For a fab f in market m, year index k = year - start_year + 1 (0 before the shock starts):

    counterfactual bits  cf_f(k)  = (1 + u_f)^k                 u: bit growth from upgrades it would get
    actual bits          act_f(k) = [1 if blocked else cf_f(k)] * (1 - a_f)^k   a: attrition (no U.S. service)
    lost (base-year global supply units)  lost_f(k) = s_f * (cf_f(k) - act_f(k))   s: global bit share
    share of global supply lost  L_m(k) = sum_f lost_f(k) / (1 + G_m)^k              G: global bit growth

A materials cut-off removes  K_m * c * x * (1 - b if k = 1) * (1 - r)^(k-1)  of market m's supply
(K: Korean share, c: China import share, x: criticality, b: buffer in years, r: substitution per year).
Other producers close a share o of the gap per year after the first: L'(k) = L(k) * (1 - o)^(k-1).
Price effect (constant flexibility phi = -1/elasticity):  dP/P = (1 - L')^(-phi) - 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class Dist:
    """One input: a fixed value (sourced) or a range drawn uniformly / triangularly (estimate)."""

    name: str
    low: float | None
    high: float | None
    mode: float | None = None
    estimate: bool = False
    source: str = ""

    @classmethod
    def of(cls, name: str, spec: Any) -> Dist:
        if not isinstance(spec, dict):
            v = None if spec is None else float(spec)
            return cls(name, v, v)
        if "value" in spec:
            v = None if spec["value"] is None else float(spec["value"])
            return cls(name, v, v, None, bool(spec.get("estimate", False)), str(spec.get("source", "")))
        lo, hi = float(spec["low"]), float(spec["high"])
        if hi < lo:
            raise ValueError(f"{name}: high {hi} is below low {lo}")
        mode = spec.get("mode")
        if mode is not None and not lo <= float(mode) <= hi:
            raise ValueError(f"{name}: mode {mode} outside [{lo}, {hi}]")
        return cls(name, lo, hi, None if mode is None else float(mode), bool(spec.get("estimate", False)),
                   str(spec.get("source", "")))

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.low is None or self.high is None:
            return np.full(n, np.nan)
        if self.high == self.low:
            return np.full(n, self.low)
        if self.mode is not None:
            return rng.triangular(self.low, self.mode, self.high, n)
        return rng.uniform(self.low, self.high, n)


def load_params(path: str | Path | None = None) -> dict:
    """The shipped params.yaml, or a user's copy of it."""
    text = (Path(path).read_text(encoding="utf-8") if path
            else (resources.files("carveout.shock") / "params.yaml").read_text(encoding="utf-8"))
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or "scenarios" not in doc or "markets" not in doc:
        raise ValueError(f"{path or 'params.yaml'}: expected 'markets', 'fabs', 'materials' and 'scenarios'")
    return doc


def inputs(params: dict) -> dict[str, Dist]:
    """Every numeric input by a dotted name (e.g. ``fabs.SKH-WUXI.attrition_per_year``)."""
    out: dict[str, Dist] = {"offset_per_year": Dist.of("offset_per_year", params["offset_per_year"])}
    for m, spec in params["markets"].items():
        for k, v in spec.items():
            out[f"markets.{m}.{k}"] = Dist.of(f"markets.{m}.{k}", v)
    for f, spec in params.get("fabs", {}).items():
        for k, v in spec.items():
            if k != "market":
                out[f"fabs.{f}.{k}"] = Dist.of(f"fabs.{f}.{k}", v)
    for mat, spec in params.get("materials", {}).items():
        for k, v in spec.items():
            if k not in ("description", "probe_materials"):
                out[f"materials.{mat}.{k}"] = Dist.of(f"materials.{mat}.{k}", v)
    for m, v in params.get("korean_share", {}).items():
        out[f"korean_share.{m}"] = Dist.of(f"korean_share.{m}", v)
    return out


@dataclass
class ShockResult:
    scenario: str
    description: str
    policy_scenario: str | None
    years: list[int]
    draws: int
    markets: pl.DataFrame  # per market and year: supply share lost and price effect, median and 5-95 %
    fabs: pl.DataFrame  # per fab and year: capacity lost (wafers/month) and bit output lost (%)
    market_draws: pl.DataFrame = field(repr=False)  # every draw: draw, year, market, share lost, price effect
    fab_draws: pl.DataFrame = field(repr=False)
    assumptions: pl.DataFrame = field(repr=False)  # every input used, with range and source/estimate mark
    channels: pl.DataFrame | None = field(default=None, repr=False)  # probe verdicts (shock.channels)

    def headline(self) -> str:
        """One line: the largest median price effect and its 5-95 % range."""
        m = self.markets.sort("price_effect_median", descending=True).row(0, named=True)
        return (f"shock {self.scenario}: {m['market']} {m['year']} supply lost {100 * m['share_lost_median']:.1f}% "
                f"(5-95%: {100 * m['share_lost_p5']:.1f}-{100 * m['share_lost_p95']:.1f}%), price "
                f"+{100 * m['price_effect_median']:.0f}% ({100 * m['price_effect_p5']:.0f}-"
                f"{100 * m['price_effect_p95']:.0f}%), {self.draws:,} draws")

    def write_draws(self, path: str | Path) -> Path:
        """Parquet of every draw (market level; the fab draws go beside it as ``*_fabs.parquet``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.market_draws.write_parquet(path)
        self.fab_draws.write_parquet(path.with_name(path.stem + "_fabs.parquet"))
        return path


def needed(params: dict, sc: dict) -> list[str]:
    """The inputs a scenario reads, in draw order."""
    names: list[str] = []
    for f in sc.get("fabs", []):
        names += [f"fabs.{f}.{k}" for k in ("global_bit_share", "upgrade_bit_growth", "attrition_per_year",
                                             "capacity_wpm")]
    for mat in sc.get("materials", []):
        names += [f"materials.{mat}.{k}" for k in ("china_import_share", "criticality", "buffer_years",
                                                   "substitution_per_year")]
        names += [f"korean_share.{m}" for m in params["markets"] if f"korean_share.{m}" not in names]
    names.append("offset_per_year")
    for m in params["markets"]:
        names += [f"markets.{m}.supply_growth", f"markets.{m}.price_flexibility"]
    return names


def draw(ins: dict[str, Dist], names: list[str], draws: int, seed: int) -> dict[str, np.ndarray]:
    """One vector of ``draws`` values per input (independent draws; see docs for the correlation caveat)."""
    rng = np.random.default_rng(seed)
    return {n: ins[n].draw(rng, draws) for n in names}


def compute(params: dict, sc: dict, x: dict[str, np.ndarray], yr: np.ndarray) -> dict[str, Any]:
    """The equations of the module docstring on arrays of shape (draws, years)."""
    k = np.clip(yr - int(sc.get("start_year", yr[0])) + 1, 0, None).astype(float)  # (K,)
    n = len(next(iter(x.values())))

    def v(name: str) -> np.ndarray:
        return x[name][:, None]  # (N, 1) broadcasts against years

    markets = list(params["markets"])
    lost = {m: np.zeros((n, yr.size)) for m in markets}
    fabs = []
    for f in sc.get("fabs", []):
        m = params["fabs"][f]["market"]
        s, u, a = v(f"fabs.{f}.global_bit_share"), v(f"fabs.{f}.upgrade_bit_growth"), v(f"fabs.{f}.attrition_per_year")
        cf = (1.0 + u) ** k
        keep = (1.0 - a) ** k if sc.get("attrition") else np.ones_like(cf)
        act = (np.ones_like(cf) if sc.get("upgrades_blocked") else cf) * keep
        lost[m] += s * (cf - act)
        fabs.append((f, m, 1.0 - act / cf, v(f"fabs.{f}.capacity_wpm") * (1.0 - keep)))
    for mat in sc.get("materials", []):
        c, xx = v(f"materials.{mat}.china_import_share"), v(f"materials.{mat}.criticality")
        b, r = v(f"materials.{mat}.buffer_years"), v(f"materials.{mat}.substitution_per_year")
        path = np.where(k >= 1, np.where(k == 1, 1.0 - b, 1.0) * (1.0 - r) ** np.maximum(k - 1, 0), 0.0)
        for m in markets:
            lost[m] += v(f"korean_share.{m}") * c * xx * path
            # the Korean producers' own output lost (their wafer capacity is not in the data: NaN)
            fabs.append((f"Korean {m} producers ({mat})", m, np.broadcast_to(c * xx * path, (n, yr.size)),
                         np.full((n, yr.size), np.nan)))
    o = v("offset_per_year")
    out: dict[str, Any] = {"fabs": fabs, "share": {}, "price": {}}
    for m in markets:
        g, phi = v(f"markets.{m}.supply_growth"), v(f"markets.{m}.price_flexibility")
        share = np.clip(lost[m] / (1.0 + g) ** k * (1.0 - o) ** np.maximum(k - 1, 0), 0.0, 0.99)
        out["share"][m] = share
        out["price"][m] = (1.0 - share) ** (-phi) - 1.0
    return out


def simulate(scenario: str, years: tuple[int, int] = (2026, 2030), draws: int = 10_000, seed: int = 0,
             params: dict | None = None, overrides: dict[str, Any] | None = None) -> ShockResult:
    """Run ``draws`` Monte Carlo draws of the scenario over ``years`` (inclusive).

    ``overrides`` replaces inputs by dotted name (``{"markets.DRAM.price_flexibility": {"low": 1, "high": 2}}``
    or a number); a user's own elasticity goes in as ``price_flexibility`` = -1 / elasticity."""
    params = params or load_params()
    if scenario not in params["scenarios"]:
        raise KeyError(f"unknown shock scenario {scenario!r}; known: {', '.join(params['scenarios'])}")
    if draws < 1 or years[1] < years[0]:
        raise ValueError("draws must be >= 1 and the year range non-empty")
    sc = params["scenarios"][scenario]
    ins = inputs(params)
    for key, val in (overrides or {}).items():
        if key not in ins:
            raise KeyError(f"unknown input {key!r}")
        ins[key] = Dist.of(key, val)
    names = needed(params, sc)
    yr = np.arange(years[0], years[1] + 1)
    res = compute(params, sc, draw(ins, names, draws, seed), yr)
    mk_frames = [_long(m, yr, share_lost=res["share"][m], price_effect=res["price"][m]) for m in params["markets"]]
    summaries = [_summary({"market": m}, yr, share_lost=res["share"][m], price_effect=res["price"][m])
                 for m in params["markets"]]
    fab_frames = [_long(f, yr, key="fab", bit_output_lost=bl, capacity_lost_wpm=cl) for f, _, bl, cl in res["fabs"]]
    fab_sum = [_summary({"fab": f, "market": m}, yr, bit_output_lost=bl, capacity_lost_wpm=cl)
               for f, m, bl, cl in res["fabs"]]
    empty_fab = pl.DataFrame(schema={"fab": pl.String, "market": pl.String, "year": pl.Int64})
    return ShockResult(
        scenario=scenario, description=" ".join(str(sc.get("description", "")).split()),
        policy_scenario=sc.get("policy_scenario"), years=yr.tolist(), draws=draws,
        markets=pl.concat(summaries), fabs=pl.concat(fab_sum) if fab_sum else empty_fab,
        market_draws=pl.concat(mk_frames), fab_draws=pl.concat(fab_frames) if fab_frames else empty_fab,
        assumptions=pl.DataFrame([{"input": n, "low": ins[n].low, "mode": ins[n].mode, "high": ins[n].high,
                                   "estimate": ins[n].estimate, "source": ins[n].source} for n in names],
                                 schema={"input": pl.String, "low": pl.Float64, "mode": pl.Float64,
                                         "high": pl.Float64, "estimate": pl.Boolean, "source": pl.String}),
    )


def _long(name: str, yr: np.ndarray, key: str = "market", **arrays: np.ndarray) -> pl.DataFrame:
    n, k = next(iter(arrays.values())).shape
    return pl.DataFrame({
        "draw": np.repeat(np.arange(n, dtype=np.int32), k),
        "year": np.tile(yr.astype(np.int32), n),
        key: np.full(n * k, name),
        **{c: a.reshape(-1) for c, a in arrays.items()},
    })


def _summary(keys: dict[str, str], yr: np.ndarray, **arrays: np.ndarray) -> pl.DataFrame:
    cols: dict[str, Any] = {**{c: [v] * yr.size for c, v in keys.items()}, "year": yr.tolist()}
    for c, a in arrays.items():
        if np.isnan(a).all():
            q = np.full((3, yr.size), np.nan)
        else:
            q = np.nanquantile(a, QUANTILES, axis=0)
        for label, row in zip(("p5", "median", "p95"), q, strict=True):
            cols[f"{c}_{label}"] = [None if np.isnan(x) else float(x) for x in row]
    return pl.DataFrame(cols)
