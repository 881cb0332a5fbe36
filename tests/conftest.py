"""Shared test set-up: Qt runs offscreen, and torch stays on one thread so parallel test
processes on this 2-core machine do not slow each other down."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

torch.set_num_threads(1)
