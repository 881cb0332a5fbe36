"""The model and everything that reads its forward pass.

`config` (engine.config) chooses the components; `decoder` assembles them into GPT; `trace`
records every HookPoint of one forward under a stable name; `steps` is the registry of what
each step kind means (formula, axes, check, recompute); `checks` recomputes every step in
float64 from the config alone; `ondemand` recomputes large steps when read; `lens`, `analysis`,
`sample` and `article` serve the panels. May import engine.text and the base modules only.
"""
