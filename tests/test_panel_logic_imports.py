"""The panels' non-widget modules stay that way: they import no widgets, no pyqtgraph and no
view piece, so their tests run and their logic reads without a display. The one part of Qt
they may use is QtCore's translation (QCoreApplication.translate, QT_TRANSLATE_NOOP): the
words they produce are the user's language too."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOGIC = ["gui/panels/tokens/rows.py", "gui/panels/embeddings/labels.py",
         "gui/panels/embeddings/analysis.py", "gui/panels/positional/waves.py",
         "gui/panels/attention/stages.py", "gui/panels/attention/groups.py",
         "gui/panels/positional/rotary.py", "gui/panels/generation/job.py",
         "gui/panels/generation/text.py", "gui/panels/history/snapshots.py",
         "gui/panels/insights/jobs.py",
         "gui/panels/walkthrough/describe.py", "gui/panels/walkthrough/labels.py",
         "gui/panels/walkthrough/checks.py", "gui/panels/walkthrough/article.py"]
VIEW_PACKAGES = ("PySide6", "pyqtgraph", "gui.widgets", "shiboken6")
ALLOWED = {"PySide6.QtCore"}  # translation only: no widgets, no painting


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", LOGIC)
def test_logic_modules_import_no_views(module):
    names = imported(ROOT / module)
    views = {n for n in names if n not in ALLOWED
             and (n.split(".")[0] in VIEW_PACKAGES or n.startswith(VIEW_PACKAGES))}
    assert not views, f"{module} imports {sorted(views)}"
    # Nor a view module of its own package (those are the widgets).
    package = module.rsplit("/", 1)[0].replace("/", ".")
    own = {n for n in names if n.startswith(package + ".")}
    assert own <= {package + "." + Path(m).stem for m in LOGIC}, own
