"""Every plot and heatmap can be saved as PNG and SVG."""
import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

from gui import dialogs
from gui.widgets.export import ask_and_export, export_view
from gui.widgets.heatmap import Heatmap


def test_heatmap_and_plot_export_to_png_and_svg(qtbot, tmp_path):
    heat = Heatmap()
    qtbot.addWidget(heat)
    heat.resize(400, 300)
    values = np.tril(np.random.default_rng(0).random((6, 6))).astype(np.float32)
    values[np.triu_indices(6, 1)] = -np.inf
    heat.set_matrix(values, list("abcdef"), list("abcdef"), title="pattern")
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.plot([0, 1, 2], [3, 1, 2])
    for view, name in ((heat.graphics, "heat"), (plot, "curve")):
        png = export_view(view, str(tmp_path / f"{name}.png"))
        image = QImage(png)
        assert not image.isNull() and image.width() >= 800
        svg = export_view(view, str(tmp_path / f"{name}.svg"))
        assert "<svg" in open(svg, encoding="utf-8").read(2000)


def test_the_dialog_route_adds_the_suffix(qtbot, tmp_path, monkeypatch):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.plot([0, 1], [1, 0])
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a, **k: str(tmp_path / "loss"))
    assert ask_and_export(plot, "png", "loss") == str(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 0
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a, **k: "")
    assert ask_and_export(plot, "svg", "loss") == ""
