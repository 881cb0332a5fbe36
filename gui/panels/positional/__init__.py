"""Step 4 of the pipeline, positional encoding: the waves PE(pos, 2i) = sin(pos/10000^(2i/d)),
PE(pos, 2i+1) = cos(...), the [context × d_model] table as numbers and colours, and
token embedding + PE = the input of the first block, side by side.

The table and the sum come from the trace; the waves read the model's positional table (or,
to look past the context length of a sinusoidal model, the engine's formula): `waves` (no
widgets). One view module per tab (`waves_view`, `table_view`, `sum_view`); `panel`
assembles the dock.

A rotary model (Llama, Qwen, Mistral, Gemma) has no table: its tabs are the angle waves
(`rotary_waves_view`), one head's q and k pairs turning (`arrows_view`) and the relative-position
property (`relative_view`), from engine.model.rotary_readings; `rotary` holds their plain logic.
"""
from gui.panels.positional.panel import PositionalPanel

__all__ = ["PositionalPanel"]
