"""The translation catalogues: extract, fill, check and compile them (Qt Linguist's tools).

    python scripts/translations.py update [AREA ...]   pyside6-lupdate: sources → .ts
    python scripts/translations.py missing [AREA ...]  list sources with no Chinese yet
    python scripts/translations.py fill AREA FILE.json  set translations: {"English": "中文"}
    python scripts/translations.py build               pyside6-lrelease: all .ts → zh_CN.qm

Each area of the interface has its own .ts file (gui/translations/zh_CN/<area>.ts), so the
people working on different panels never edit the same catalogue; `build` compiles them all
into the one gui/translations/zh_CN.qm that the app loads (gui.i18n).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TS_DIR = ROOT / "gui" / "translations" / "zh_CN"
QM = ROOT / "gui" / "translations" / "zh_CN.qm"

# area -> the sources whose strings it holds (globs relative to the repository).
AREAS: dict[str, tuple[str, ...]] = {
    "window": ("gui/window/*.py", "gui/app.py", "gui/dialogs.py", "gui/widgets/*.py",
               "gui/pieces.py", "gui/recovery.py"),
    "training": ("gui/panels/training/*.py", "gui/run/*.py"),
    "walkthrough": ("gui/panels/walkthrough/*.py",),
    "insights": ("gui/panels/insights/*.py",),
    "attribution": ("gui/panels/attribution/*.py",),
    "generation": ("gui/panels/generation/*.py", "gui/panels/history/*.py"),
    "runs": ("gui/panels/runs/*.py",),
    "views": ("gui/panels/tokens/*.py", "gui/panels/embeddings/*.py",
              "gui/panels/positional/*.py", "gui/panels/attention/*.py"),
    # pyqtgraph's own right-click menus (its view box, plot options and export entries): its
    # sources translate through Qt's translator in these contexts, so our catalogue carries them.
    "plots": ("gui/plot_menus.py", "pyqtgraph:graphicsItems/ViewBox/ViewBoxMenu.py",
              "pyqtgraph:graphicsItems/ViewBox/axisCtrlTemplate_generic.py",
              "pyqtgraph:graphicsItems/PlotItem/PlotItem.py",
              "pyqtgraph:graphicsItems/PlotItem/plotConfigTemplate_generic.py",
              "pyqtgraph:GraphicsScene/GraphicsScene.py"),
}
PACKAGE_PREFIX = "pyqtgraph:"  # a glob inside the installed pyqtgraph package


def _tool(name: str) -> str:
    """A Qt tool from the same environment as this Python (PySide6-Essentials ships them)."""
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found; install the project's dependencies (make setup)")
    return found


def ts_path(area: str) -> Path:
    return TS_DIR / f"{area}.ts"


def _package_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("pyqtgraph")
    if spec is None or spec.origin is None:
        raise SystemExit("pyqtgraph not found; install the project's dependencies (make setup)")
    return Path(spec.origin).parent


def sources(area: str) -> list[Path]:
    found: set[Path] = set()
    for pattern in AREAS[area]:
        if pattern.startswith(PACKAGE_PREFIX):
            found.update(_package_dir().glob(pattern[len(PACKAGE_PREFIX):]))
        else:
            found.update(ROOT.glob(pattern))
    return sorted(found)


def update(areas: list[str]) -> None:
    """Extract every tr()/translate() string of each area into its .ts (keeping translations;
    strings no longer in the code are dropped)."""
    TS_DIR.mkdir(parents=True, exist_ok=True)
    for area in areas:
        files = [str(p) for p in sources(area)]
        subprocess.run([_tool("pyside6-lupdate"), "-no-obsolete", "-locations", "none",
                        "-target-language", "zh_CN", *files,
                        "-ts", str(ts_path(area))], check=True, cwd=ROOT)


def messages(area: str) -> list[tuple[str, str, ET.Element]]:
    """(context, source, translation element) of every message in an area's .ts."""
    tree = ET.parse(ts_path(area))
    out = []
    for context in tree.getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            out.append((name, message.findtext("source", ""), message.find("translation")))
    return out


def untranslated(area: str) -> list[tuple[str, str]]:
    """(context, source) of the messages that have no finished translation."""
    return [(ctx, src) for ctx, src, tr in messages(area)
            if tr is None or tr.get("type") in ("unfinished", "obsolete", "vanished")
            or not (tr.text or "").strip()]


def fill(area: str, mapping: dict[str, str]) -> int:
    """Give every message whose source is in `mapping` that translation; returns how many."""
    path = ts_path(area)
    tree = ET.parse(path)
    done = 0
    for message in tree.getroot().iter("message"):
        source = message.findtext("source", "")
        if source in mapping:
            tr = message.find("translation")
            if tr is None:
                tr = ET.SubElement(message, "translation")
            tr.text = mapping[source]
            tr.attrib.pop("type", None)
            done += 1
    # lupdate wrote the layout; the elements keep their whitespace, so diffs stay small.
    with open(path, "wb") as f:
        f.write(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        tree.write(f, encoding="utf-8", xml_declaration=False)
    return done


def build(qm: Path = QM) -> Path:
    """Compile every area's .ts into one .qm."""
    files = [str(ts_path(a)) for a in AREAS if ts_path(a).exists()]
    subprocess.run([_tool("pyside6-lrelease"), "-silent", *files, "-qm", str(qm)], check=True,
                   cwd=ROOT)
    return qm


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("update", "missing", "fill", "build"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "update":
        update(rest or list(AREAS))
    elif command == "missing":
        left = 0
        for area in rest or [a for a in AREAS if ts_path(a).exists()]:
            for ctx, src in untranslated(area):
                print(f"{area}: [{ctx}] {src!r}")
                left += 1
        print(f"{left} without Chinese", file=sys.stderr)
        return 1 if left else 0
    elif command == "fill":
        area, table = rest
        print(f"{fill(area, json.loads(Path(table).read_text(encoding='utf-8')))} filled")
    else:
        print(build())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
