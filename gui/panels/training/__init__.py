"""The Training panel: form (settings), plots, progress and sample views, assembled in panel."""
from gui.panels.training.panel import TrainingPanel

__all__ = ["TrainingPanel"]
