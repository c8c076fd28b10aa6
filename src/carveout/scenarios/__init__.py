"""Policy scenarios: variants of the rules as YAML files, their diff against the baseline on a ledger,
the exposure of firms and fabs, and the frontier of exemption designs. Everything evaluates through
``engine.evaluate`` with the RuleSet a scenario compiles to. See docs/scenarios.md."""

from carveout.scenarios.compile import Compiled, compile_scenario
from carveout.scenarios.diff import DiffResult, diff, evaluate_scenario
from carveout.scenarios.exposure import Exposure, exposure
from carveout.scenarios.model import Scenario, ScenarioError, builtin_names, json_schema, load, parse

__all__ = [
    "Compiled", "DiffResult", "Exposure", "Scenario", "ScenarioError", "builtin_names", "compile_scenario",
    "diff", "evaluate_scenario", "exposure", "frontier", "json_schema", "load", "parse", "summary_table",
]


def __getattr__(name: str):
    if name == "frontier":
        from carveout.scenarios.frontier import frontier

        return frontier
    if name == "summary_table":
        from carveout.scenarios.summary import summary_table

        return summary_table
    raise AttributeError(name)
