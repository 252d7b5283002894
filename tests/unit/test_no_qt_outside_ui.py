"""Nothing outside desk/ui may import Qt: the engine must run headless."""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import desk


def test_engine_modules_import_with_pyside6_blocked():
    modules = [m.name for m in pkgutil.walk_packages(desk.__path__, "desk.")
               if not m.name.startswith("desk.ui")]
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
            "            raise ImportError('Qt imported outside desk.ui: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            + "".join(f"import {m}\n" for m in modules))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(modules) > 10


def test_no_source_file_outside_ui_mentions_pyside6():
    root = Path(desk.__file__).parent
    offenders = [p for p in root.rglob("*.py") if "ui" not in p.relative_to(root).parts[:1]
                 and "PySide6" in p.read_text(encoding="utf-8")]
    assert offenders == []
    importlib.import_module("desk.core.types")
