"""The walkthrough: every step of one traced forward pass, in order, with its real numbers.

`panel` assembles the dock; `toolbar`, `step_list`, `words` and `values` are its views, `form`
the slice and precision controls, `table_model` the number table. The plain modules hold what
needs no widget: `describe` (a step in words), `labels` (rows, columns, the step list's
outline), `checks` (the per-step check and its sentence), `article` (article mode's batch) and
`export` (saving a step or its heatmap).
"""
from gui.panels.walkthrough.panel import WalkthroughPanel

__all__ = ["WalkthroughPanel"]
