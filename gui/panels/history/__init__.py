"""Training history: scrub through the weight snapshots taken during training and watch the
same context through the model as it was at each step, compare one head at two steps, and read
what the model wrote at each.

`snapshots` holds the caches, the swapped-weights model and the jobs (no Qt); `scrubber`,
`compare_view` and `sample_view` draw, and `panel` assembles the dock, runs the jobs off the
GUI thread and sets the session's trace.
"""
from gui.panels.history.panel import HistoryPanel

__all__ = ["HistoryPanel"]
