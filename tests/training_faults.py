"""Training-process entry points that misbehave on purpose, for the GUI's failure tests.

They run in the spawned training process, where a test's monkeypatching does not reach; this
module imports no Qt, like the real entry point `engine.job.serve`.
"""
from __future__ import annotations

import os


def _fail_at_fourth_record(fault) -> None:
    from engine import train

    real_run = train.Trainer.run

    def run(self, *args, **kwargs):
        for i, record in enumerate(real_run(self, *args, **kwargs)):
            if i == 3:
                fault()
            yield record

    train.Trainer.run = run


def diverging_serve(req, out, requests) -> None:
    """serve(), but the run diverges at its fourth record (as a NaN loss makes it)."""
    from engine import job, train

    def diverge():
        raise train.TrainingDiverged("loss became NaN at step 4")

    _fail_at_fourth_record(diverge)
    job.serve(req, out, requests)


def dying_serve(req, out, requests) -> None:
    """serve(), but the process dies without a word at the fourth record (as if killed)."""
    from engine import job

    _fail_at_fourth_record(lambda: os._exit(3))
    job.serve(req, out, requests)
