"""The architecture holds: import contracts (pyproject's [tool.importlinter]), module sizes,
and the lists that the README, the CLI, the launcher and the window each keep."""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500
# Long tables of data, where splitting would only scatter one table over several files.
DATA_TABLES: set[str] = set()


def test_import_contracts_hold():
    """engine imports no Qt and no gui; widgets no panels; panels no other panel and not the
    window; nothing but the launcher imports gui.app (see pyproject.toml)."""
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    proc = subprocess.run(command + ["--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken", proc.stdout), proc.stdout


def test_modules_are_small():
    """A module holds one idea: none in engine/ or gui/ is over ~500 lines (data tables aside)."""
    long = {}
    for path in sorted([*ROOT.glob("engine/**/*.py"), *ROOT.glob("gui/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        n = sum(1 for _ in path.open(encoding="utf-8"))
        if n > MAX_LINES and rel not in DATA_TABLES:
            long[rel] = n
    assert long == {}


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # argparse keeps no public list of its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_cli_commands_are_the_documented_ones():
    """The README's command-line section, the CLI's parser and the launcher's list agree."""
    from engine.cli.commands import COMMANDS, build_parser
    from gui.launcher import CLI_COMMANDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^transformer-explorer ([\w-]+)", section, flags=re.M))
    assert documented == _subcommands(build_parser()) == set(COMMANDS) == set(CLI_COMMANDS)


@pytest.mark.usefixtures("qtbot")
def test_every_panel_of_the_launcher_is_a_dock_of_the_window(qtbot):
    """`--panel NAME` names exactly the window's docks, each holding its panel."""
    from PySide6.QtWidgets import QDockWidget

    from gui.launcher import PANELS
    from gui.window import MainWindow

    window = MainWindow(load_default=False, restore_layout=False)
    qtbot.addWidget(window)
    try:
        assert set(window.docks) == set(PANELS)
        for name in PANELS:
            dock = window.dock(name)
            assert isinstance(dock, QDockWidget) and dock.widget() is not None
            assert dock.objectName() and window.findChild(QDockWidget, dock.objectName()) is dock
    finally:
        window.shutdown()
