"""Training-process entry points that misbehave on purpose, for the GUI's failure tests.

They run in the spawned training process, where a test's monkeypatching does not reach; this
module imports no Qt, like the real entry point `engine.training.job.serve`.
"""
from __future__ import annotations

import os


def _fail_at_fourth_record(fault) -> None:
    from engine.training import trainer as train

    real_run = train.Trainer.run

    def run(self, *args, **kwargs):
        for i, record in enumerate(real_run(self, *args, **kwargs)):
            if i == 3:
                fault()
            yield record

    train.Trainer.run = run


def diverging_serve(req, out, requests) -> None:
    """serve(), but the run diverges at its fourth record (as a NaN loss makes it)."""
    from engine.training import job
    from engine.training import trainer as train

    def diverge():
        raise train.TrainingDiverged("loss became NaN at step 4")

    _fail_at_fourth_record(diverge)
    job.serve(req, out, requests)


def dying_serve(req, out, requests) -> None:
    """serve(), but the process dies without a word right after it sent the weights of its
    first evaluation (as if killed), having shown every step's weights until then.

    Every step's weights are shown (refresh interval 0, whatever the window asks for), so the
    last weights sent are known exactly: those of the first evaluation, which are also the
    snapshot written just before them.
    """
    from dataclasses import replace

    from engine.training import job
    from engine.training.job_messages import SetRefreshInterval, Weights, Yielded

    real_send, real_apply = job.send, job.TrainingControl.apply

    def send(conn, message) -> None:
        real_send(conn, message)
        if (isinstance(message, Yielded) and isinstance(message.message, Weights)
                and message.message.reason == "eval"):
            os._exit(3)

    def apply(self, request) -> None:
        if not isinstance(request, SetRefreshInterval):
            real_apply(self, request)

    job.send = send
    job.TrainingControl.apply = apply
    job.serve(replace(req, refresh_interval_s=0.0), out, requests)


def memory_short_serve(req, out, requests) -> None:
    """serve(), on a device that has only 1 kB free: the engine's memory check refuses the
    run before it starts (a ConfigError naming d_model, sent back through the pipe)."""
    from engine.training import job, memory

    memory.free_memory = lambda device: 1_000
    job.serve(req, out, requests)
