"""carveout: U.S. semiconductor export controls as code you can run, question and simulate."""

from carveout.api import check, classify, evaluate, screen
from carveout.changes import changes  # the function; it binds over the submodule of the same name
from carveout.counterfactual import counterfactual

__all__ = ["changes", "check", "classify", "counterfactual", "evaluate", "screen"]
__version__ = "0.1.0"
