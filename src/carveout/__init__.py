"""carveout: U.S. semiconductor export controls as code you can run, question and simulate."""

from carveout.api import check, classify, evaluate, screen

__all__ = ["check", "classify", "evaluate", "screen"]
__version__ = "0.1.0"
