"""A training run as the window sees it: the controller that owns the training process
(controller), the process and its relay thread (process, relay), and the pacing of what the
window shows while training (pacing, sample)."""
from gui.run.controller import RunController, RunState, describe

__all__ = ["RunController", "RunState", "describe"]
