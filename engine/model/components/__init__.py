"""The parts a decoder block is assembled from, each chosen once from the ModelConfig.

Each torch module here (norms, positions, attention, feedforward, wiring) owns its weights and
its hook points; the step kinds it emits are declared beside it, in the torch-free
`*_steps.py` modules (title, formula, axes, notes, float64 check, recompute), which
engine.model.registry collects. This package's __init__ imports nothing, so the step facts can
be read without torch.
"""
