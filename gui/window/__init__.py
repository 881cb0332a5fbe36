"""The application window: it assembles the context box, the panels' docks, the commands and
the status bar (main_window), with one module for each of their concerns."""
from gui.window.main_window import DEFAULT_SIZE, MainWindow

__all__ = ["DEFAULT_SIZE", "MainWindow"]
