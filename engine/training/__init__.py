"""Training: the trainer (`trainer`, `gradients`, `evaluation`, `records`, `rng`), DDP
(`distributed`), memory and fit estimates (`memory`, `fit`), run directories (`rundir`,
`snapshots`, `runlock`, `diskwrites`), two runs side by side (`run_comparison`), building a
run (`runs`), the one run driver for the CLI
and the window (`driver`, with its saves in `saves` and its seconds in `runclock`) and the
window's training process (`job`, `job_messages`, `cores`).

May import engine.storage, engine.model, engine.text and the base modules; only the CLI (and the
GUI) import it.
"""
