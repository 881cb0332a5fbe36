"""Looking inside the predictions: the logit lens, head ablation and the loss of every token.

- `panel`: the dock widget, three tabs that follow the session.
- `lens_view`, `ablation_view`, `loss_view` (with `loss_strip`): one view per tab; each draws
  only while it is on screen (gui.widgets.LazyPanel).
- `readings`: what the views show, computed without widgets (colours, head names, the loss
  reading, the before/after bars); `jobs`: the work the ablation runs off the GUI thread.
"""
from .panel import InsightsPanel

__all__ = ["InsightsPanel"]
