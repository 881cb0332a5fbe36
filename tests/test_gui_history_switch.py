"""Switching runs (another snapshot store) leaves no sample of the previous run on show (#22.4)."""
from __future__ import annotations

from engine.training.snapshots import SnapshotStore
from gui.panels.history import HistoryPanel
from tests.test_gui_history import STEPS, _model, session, store  # noqa: F401 (fixtures)


def test_another_run_clears_the_previous_runs_sample(qtbot, session, store, tmp_path):  # noqa: F811
    session.set_snapshots(store)
    panel = HistoryPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    try:
        panel.set_step(STEPS[0])
        qtbot.waitUntil(lambda: panel.sample_text() != "" and "step 0" in
                        panel.sample.title.text(), timeout=20_000)
        other = SnapshotStore(tmp_path / "other")
        other.add(7, _model(session.tokenizer, 55).state_dict(), {"val_loss": 2.0})
        session.set_snapshots(other)
        assert panel.sample_text() == "" and panel.sample.title.text() == ""
    finally:
        panel.shutdown()
