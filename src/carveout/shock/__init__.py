"""Supply-shock model: what a scenario's effect on the China fabs (or a PRC materials cut-off) does to
global DRAM/NAND bit supply and prices, with Monte Carlo over every estimated input.

See docs/shock-model.md for the equations, the data and their limits; parameters live in params.yaml.
``carveout.shock.model`` (NumPy) is imported only when used, so the CLI starts without it.
"""
