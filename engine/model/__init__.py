"""The model and everything that reads its forward pass.

`config` (engine.config) chooses the components once; `components/` holds them (norms,
position schemes, attention, feed-forward, the block's wiring), each torch module beside the
torch-free declaration of the steps it emits (`*_steps.py`); `registry` collects those
declarations (title, formula, axes, notes, float64 check, recompute, guide section);
`decoder` assembles GPT and its small surface for views; `hooks` names every intermediate;
`trace` records every HookPoint of one forward under a stable name; `checks` runs the
registry's float64 checks from the config alone; `ondemand` recomputes large steps when read;
`steps` puts the registry's facts into words; `lens`, `analysis`, `sample` and `article` serve
the panels; `attribution` (direct logit attribution) and `input_attribution` (gradient × input,
integrated gradients) say why the model chose a token. May import engine.text and the base modules only.
"""
