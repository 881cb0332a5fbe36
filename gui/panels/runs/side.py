"""One side of the comparison: a run picker (recent runs and Browse…), its model's label, and
its attention heatmap on the context text with its own block and head selectors."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.training.run_comparison import RunAttention, RunLabel
from gui import dialogs
from gui.widgets import PATTERN_CMAP, Heatmap
from gui.widgets.language import Translated


def wrapped(label: QLabel, lines: int) -> QLabel:
    """A word-wrapped label with room for `lines` lines that asks for no height-for-width: a
    layout that has it makes the dock's scroll area size the panel by every widget's preferred
    height (two heatmaps' 500 px), and the panel then scrolls at any window size."""
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHeightForWidth(False)
    label.setSizePolicy(policy)
    label.setMinimumHeight(lines * label.fontMetrics().lineSpacing() + 2)
    return label


class RunSide(Translated, QGroupBox):
    """Side A or B: which run, what model it is, and one head's attention pattern."""

    chosen = Signal(str)  # a run folder (or model file) was picked

    def __init__(self, letter: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.letter = letter  # "A" or "B": the same in every language
        self._attention: RunAttention | None = None
        self._message = ""  # why nothing is drawn (one line), or ""
        self.picker = QComboBox()
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(6)
        self.picker.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.picker.activated.connect(self._on_picked)
        # A run folder, or a saved model (a checkpoint keeps its run's records as history).
        self.browse = QPushButton()
        menu = QMenu(self.browse)
        self.browse_run = menu.addAction("", self._browse_run)
        self.browse_model = menu.addAction("", self._browse_model)
        self.browse.setMenu(menu)
        self.label = wrapped(QLabel(), 2)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.block_combo, self.head_combo = QComboBox(), QComboBox()
        for combo in (self.block_combo, self.head_combo):  # numbers: narrow, so A and B fit
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(2)
        self.block_combo.currentIndexChanged.connect(self._on_block)
        self.head_combo.currentIndexChanged.connect(self._draw)
        self.block_label, self.head_label = QLabel(), QLabel()
        self.heatmap = Heatmap(readout=False)  # room for the map: the caption says what it is
        self.heatmap.setMinimumSize(140, 150)
        self.caption = wrapped(QLabel(), 2)
        pick = QHBoxLayout()
        pick.addWidget(self.picker, 1)
        pick.addWidget(self.browse)
        heads = QHBoxLayout()
        for label, combo in ((self.block_label, self.block_combo),
                             (self.head_label, self.head_combo)):
            heads.addWidget(label)
            heads.addWidget(combo)
            heads.addSpacing(4)
        heads.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addWidget(self.label)
        layout.addLayout(heads)
        layout.addWidget(self.heatmap, 1)
        layout.addWidget(self.caption)
        self._retranslate()

    def _retranslate(self) -> None:
        self.setTitle(self.tr("Run {0}").format(self.letter))
        self.browse.setText(self.tr("Browse…"))
        self.picker.setPlaceholderText(self.tr("Choose a run…"))
        self.browse.setToolTip(self.tr("Choose a training run's folder (written by the window "
                                       "or by `train --out`), or a model saved after training"))
        self.browse_run.setText(self.tr("Training run folder…"))
        self.browse_model.setText(self.tr("Saved model…"))
        self.caption.setToolTip(self.tr(
            "The context goes through each model's own tokenizer, so the two maps may show "
            "different tokens. With grouped-query attention several query heads read one K/V "
            "head."))
        self.block_label.setText(self.tr("Block:"))
        self.head_label.setText(self.tr("Head:"))
        self.heatmap.set_axis_titles(self.tr("query"), self.tr("key"))
        self._show_label()
        self._draw()

    # -- the picker -------------------------------------------------------------------------
    def path(self) -> str:
        """The chosen run ("" for none)."""
        return self.picker.currentData() or ""

    def set_choices(self, paths: list[str], current: str) -> None:
        """Offer `paths` (newest first), `current` chosen (added when missing)."""
        if current and current not in paths:
            paths = [current, *paths]
        self.picker.blockSignals(True)
        self.picker.clear()
        for p in paths:
            self.picker.addItem(Path(p).name, p)
            self.picker.setItemData(self.picker.count() - 1, p, Qt.ItemDataRole.ToolTipRole)
        self.picker.setCurrentIndex(paths.index(current) if current in paths else -1)
        self.picker.setToolTip(current)
        self.picker.blockSignals(False)

    def _on_picked(self, index: int) -> None:
        path = self.picker.itemData(index) or ""
        self.picker.setToolTip(path)
        if path:
            self.chosen.emit(path)

    def _start_dir(self) -> str:
        return str(Path(self.path()).parent) if self.path() else ""

    def _browse_run(self) -> None:
        folder = dialogs.ask_directory(self, self.tr("Choose a training run"), self._start_dir())
        if folder:
            self.chosen.emit(folder)

    def _browse_model(self) -> None:
        path = dialogs.ask_open_path(self, self.tr("Choose a saved model"), self._start_dir(),
                                     self.tr("Saved models (*.safetensors)"))
        if path:
            self.chosen.emit(path)

    # -- what the run holds -----------------------------------------------------------------
    def show_attention(self, attention: RunAttention | None, message: str = "") -> None:
        """Draw a side's attention (None: `message` says why there is none)."""
        self._attention, self._message = attention, message
        if attention is not None:
            n_layer, n_head = len(attention.patterns), attention.patterns[0].shape[0]
            for combo, n in ((self.block_combo, n_layer), (self.head_combo, n_head)):
                keep = combo.currentIndex()
                combo.blockSignals(True)
                combo.clear()
                combo.addItems([str(i) for i in range(n)])
                combo.setCurrentIndex(keep if 0 <= keep < n else 0)
                combo.blockSignals(False)
        self._show_label()
        self._draw()

    def attention(self) -> RunAttention | None:
        return self._attention

    def set_head(self, block: int, head: int) -> None:
        """Choose the block and head shown."""
        self.block_combo.setCurrentIndex(block)
        self.head_combo.setCurrentIndex(head)

    def _show_label(self) -> None:
        a = self._attention
        self.label.setText(self.describe(a.label) if a is not None else self._message)
        self.label.setToolTip(self.label.text())  # two lines may not hold all of it

    def describe(self, label: RunLabel) -> str:
        """A run's architecture and size in the interface language."""
        kv = self.tr(" ({0} K/V heads)").format(label.n_kv_head) \
            if label.n_kv_head != label.n_head else ""
        return self.tr("{0} · d {1} · {2} layers · {3} heads{4} · {5} parameters").format(
            label.arch or self.tr("custom"), label.d_model, label.n_layer, label.n_head, kv,
            f"{label.params:,}")

    def _on_block(self, *_args) -> None:
        self._draw()

    def _draw(self, *_args) -> None:
        a = self._attention
        block, head = self.block_combo.currentIndex(), self.head_combo.currentIndex()
        if a is None or block < 0 or head < 0:
            self.heatmap.setVisible(a is not None)
            self.caption.setText("")
            return
        self.heatmap.setVisible(True)
        labels = [f"{t} {p}" for t, p in enumerate(a.pieces)]
        self.heatmap.set_matrix(a.head(block, head), labels, labels, PATTERN_CMAP,
                                levels=(0.0, 1.0),
                                title=self.tr("Attention (softmax), block {0}, head {1}"
                                              ).format(block, head))
        nh, kv = a.label.n_head, a.label.n_kv_head
        lines = [self.tr("{0} tokens of its own ({1} more left out).").format(len(a.ids), a.cut)
                 if a.cut else self.tr("{0} tokens of its own.").format(len(a.ids))]
        if kv != nh:  # one sentence a line: never a sentence glued from translated pieces
            lines.append(self.tr("Head {0} reads K/V head {1} of {2}.").format(
                head, head // (nh // kv), kv))
        self.caption.setText("\n".join(lines))
