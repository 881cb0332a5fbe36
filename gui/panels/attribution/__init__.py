"""Why this token? Attribution of the model's next-token logit, in four tabs.

- `panel`: the dock widget: the target bar (`target_bar`) above the tabs.
- `logit_view`: direct logit attribution (heatmap of blocks × heads plus an MLP column, the
  sorted parts, the sum check); `input_view` (with `token_cells`): gradient × input and
  integrated gradients over the prompt's tokens, with the completeness check.
- `readings`: what the views show, computed without widgets; `jobs`: the work they run off the
  GUI thread; `export`: the CSV / PNG / SVG buttons.
"""
from .panel import AttributionPanel

__all__ = ["AttributionPanel"]
