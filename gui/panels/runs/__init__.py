"""The Compare runs dock: two training runs' loss curves and attention side by side."""
from gui.panels.runs.panel import RunsPanel

__all__ = ["RunsPanel"]
