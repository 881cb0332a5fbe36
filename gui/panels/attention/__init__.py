"""Steps 7-10 of the pipeline, per head: scores QKᵀ → scaled ÷√hs → masked (+ causal mask) →
softmax, for one layer of the current context, plus the causal mask itself.

Every number comes from the trace (batch row 0); the panel only chooses what to show.
`stages` says what the stages are and which one a walkthrough step names (no widgets);
`form` chooses the layer and stage, `head_grid` and `single_view` draw them, and `panel`
assembles the dock.
"""
from gui.panels.attention.panel import AttentionPanel

__all__ = ["AttentionPanel"]
