"""How often a run's results are shown: the window's refreshes and the evaluation samples.

Both are paced by what they cost on the core this process keeps while training (the trainer
has the other), so the event loop stays responsive whatever the model's size.
"""
from __future__ import annotations

# Live panel refreshes while training: as often as every MIN_REFRESH_S, but the GUI thread may
# spend at most REFRESH_DUTY of its time redrawing the panels. Measured: one refresh costs the
# GUI thread 40-100 ms, so about every 2 s.
MIN_REFRESH_S, MAX_REFRESH_S, REFRESH_DUTY = 2.0, 10.0, 0.05
# Samples at each evaluation: up to SAMPLE_TOKENS, fewer (at least MIN_SAMPLE_TOKENS) when
# writing them would take more than SAMPLE_BUDGET of the time between evaluations. Measured: 48
# tokens of the default model took ~0.3 s of the core this process shares with its redraws.
SAMPLE_TOKENS, MIN_SAMPLE_TOKENS, SAMPLE_BUDGET = 48, 8, 0.05


def refresh_interval(redraw_s: float) -> float:
    """Seconds between weights to show, for a window that took `redraw_s` to redraw from the
    last ones."""
    return min(MAX_REFRESH_S, max(MIN_REFRESH_S, redraw_s / REFRESH_DUTY))


def sample_tokens(s_per_token: float, since_last_s: float) -> int:
    """Tokens to sample now: `s_per_token` was measured on the last sample (0: none yet), which
    was started `since_last_s` ago."""
    if s_per_token <= 0:
        return SAMPLE_TOKENS
    budget = SAMPLE_BUDGET * since_last_s
    return max(MIN_SAMPLE_TOKENS, min(SAMPLE_TOKENS, int(budget / s_per_token)))
