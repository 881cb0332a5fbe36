"""Shared test set-up: Qt runs offscreen, and torch stays on one thread so parallel test
processes on this 2-core machine do not slow each other down."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# NumPy's BLAS threads beside torch's fight for the 2 cores (an SVD went 27 ms -> 1.4 s).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
