"""desk.ui.system_libs: ldd output -> missing libraries -> Debian/Ubuntu packages -> command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desk.ui import system_libs
from desk.ui.system_libs import Report, check, missing_in_ldd, packages_for, version_errors_in_ldd

# `ldd PySide6/Qt/plugins/platforms/libqxcb.so` on a Debian 12 without libxcb-icccm4 and
# libxcb-keysyms1 (PySide6 6.11.3; the libraries of the wheel itself resolve through RUNPATH).
LDD_QXCB = """\
\tlinux-vdso.so.1 (0x00007ffd2b9e1000)
\tlibQt6XcbQpa.so.6 => /venv/lib/python3.11/site-packages/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f08ca8e0000)
\tlibQt6Gui.so.6 => /venv/lib/python3.11/site-packages/PySide6/Qt/plugins/platforms/../../lib/libQt6Gui.so.6 (0x00007f08ca000000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f08c9d70000)
\tlibxkbcommon.so.0 => /lib/x86_64-linux-gnu/libxkbcommon.so.0 (0x00007f08c95ba000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f08c9d65000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f08c9d5e000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f08c9d56000)
\tlibxcb-image.so.0 => /lib/x86_64-linux-gnu/libxcb-image.so.0 (0x00007f08c9d50000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-randr.so.0 => /lib/x86_64-linux-gnu/libxcb-randr.so.0 (0x00007f08c9d3f000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f08c8e00000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f08c8c1e000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibglib-2.0.so.0 => /lib/x86_64-linux-gnu/libglib-2.0.so.0 (0x00007f08c8ae6000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f08ca9e3000)
"""

# A fresh Ubuntu desktop: ldd on libQt6XcbQpa.so.6, several libraries absent.
LDD_FRESH_UBUNTU = """\
\tlinux-vdso.so.1 (0x00007ffc7a5f5000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => not found
\tlibxcb-image.so.0 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-randr.so.0 => /lib/x86_64-linux-gnu/libxcb-randr.so.0 (0x000074c1f1a9e000)
\tlibxcb-render-util.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibQt6Gui.so.6 => /home/a/desk/.venv/lib/python3.11/site-packages/PySide6/Qt/lib/libQt6Gui.so.6 (0x000074c1f1200000)
"""

# An older system than the wheel was built for: ldd names symbol versions on stderr.
LDD_OLD_GLIBC = """\
/venv/PySide6/Qt/lib/libQt6Core.so.6: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /venv/PySide6/Qt/lib/libQt6Core.so.6)
/venv/PySide6/Qt/lib/libQt6Core.so.6: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.29' not found (required by /venv/PySide6/Qt/lib/libQt6Core.so.6)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0000000000)
"""


def test_missing_libraries_are_read_from_ldd_once_each():
    assert missing_in_ldd(LDD_QXCB) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_in_ldd(LDD_OLD_GLIBC) == []
    assert missing_in_ldd("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n") == []


def test_missing_libraries_map_to_debian_packages():
    packages, unknown = packages_for(missing_in_ldd(LDD_QXCB), resolve=False)
    assert packages == ["libxcb-icccm4", "libxcb-keysyms1"]
    assert unknown == []
    packages, unknown = packages_for(missing_in_ldd(LDD_FRESH_UBUNTU), resolve=False)
    assert packages == ["libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
                        "libxcb-render-util0", "libxcb-util1", "libxkbcommon-x11-0"]
    assert unknown == []


def test_every_runtime_and_linked_library_has_a_package():
    for soname in (*system_libs.RUNTIME_LIBS, *system_libs.XCB_PLUGIN_LINKS):
        assert soname in system_libs.SONAME_PACKAGES, soname
    assert system_libs.SONAME_PACKAGES["libglib-2.0.so.0"] == "libglib2.0-0"
    assert system_libs.SONAME_PACKAGES["libEGL.so.1"] == "libegl1"


def test_unknown_library_is_named_without_a_package():
    packages, unknown = packages_for(["libxcb-icccm.so.4", "libfoo.so.3"], resolve=False)
    assert (packages, unknown) == (["libxcb-icccm4"], ["libfoo.so.3"])
    text = Report(checked=True, missing=["libfoo.so.3"], unknown=["libfoo.so.3"]).text()
    assert "apt-file search libfoo.so.3" in text and "apt-get" not in text


def test_old_glibc_is_reported_as_too_old_not_as_a_package():
    assert version_errors_in_ldd(LDD_OLD_GLIBC) == ["GLIBC_2.34", "GLIBCXX_3.4.29"]
    report = Report(checked=True, version_errors=["GLIBC_2.34"])
    assert not report.ok and report.command == "" and "too old" in report.text()


def test_command_uses_sudo_unless_root():
    report = Report(checked=True, missing=["libxcb-icccm.so.4", "libxcb-keysyms.so.1"],
                    packages=["libxcb-icccm4", "libxcb-keysyms1"])
    assert report.command == "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1"
    assert report.command in report.text()
    report.root = True
    assert report.command == "apt-get install -y libxcb-icccm4 libxcb-keysyms1"


# Shaped like `apt-cache policy libglib2.0-0 libglib2.0-0t64 libxcb-icccm4 libxcb-icccm4t64` on
# Ubuntu 24.04 (versions illustrative): the old glib name is only virtual there, no candidate.
APT_POLICY_NOBLE = """\
libglib2.0-0:
  Installed: (none)
  Candidate: (none)
  Version table:
libglib2.0-0t64:
  Installed: 2.80.0-6ubuntu3.4
  Candidate: 2.80.0-6ubuntu3.4
  Version table:
 *** 2.80.0-6ubuntu3.4 500
        500 http://archive.ubuntu.com/ubuntu noble-updates/main amd64 Packages
        100 /var/lib/dpkg/status
libxcb-icccm4:
  Installed: (none)
  Candidate: 0.4.1-1.1build3
  Version table:
     0.4.1-1.1build3 500
        500 http://archive.ubuntu.com/ubuntu noble/main amd64 Packages
"""


def test_t64_name_is_used_where_apt_knows_only_that(monkeypatch: pytest.MonkeyPatch):
    known = system_libs.parse_apt_policy(APT_POLICY_NOBLE)
    assert known == {"libglib2.0-0t64", "libxcb-icccm4"}
    assert system_libs.debian_package("libglib2.0-0", known) == "libglib2.0-0t64"
    assert system_libs.debian_package("libxcb-icccm4", known) == "libxcb-icccm4"
    assert system_libs.debian_package("libglib2.0-0", None) == "libglib2.0-0"  # no apt
    assert system_libs.debian_package("libglib2.0-0", set()) == "libglib2.0-0"  # no lists
    monkeypatch.setattr(system_libs, "apt_candidates", lambda names: known)
    packages, _ = packages_for(["libglib-2.0.so.0", "libgthread-2.0.so.0", "libxcb-icccm.so.4"])
    assert packages == ["libglib2.0-0t64", "libxcb-icccm4"]


@pytest.mark.parametrize(("platform", "env"), [
    ("darwin", {}), ("win32", {}), ("linux", {"QT_QPA_PLATFORM": "offscreen"}),
    ("linux", {"QT_QPA_PLATFORM": "wayland"}),
])
def test_nothing_to_check(platform: str, env: dict[str, str]):
    report = check(env=env, platform=platform)
    assert not report.checked and report.ok


def test_xcb_among_platforms_is_checked():
    assert system_libs.uses_xcb({})
    assert system_libs.uses_xcb({"QT_QPA_PLATFORM": "wayland;xcb"})
    assert system_libs.uses_xcb({"QT_QPA_PLATFORM": "xcb:nomitshm"})
    assert not system_libs.uses_xcb({"QT_QPA_PLATFORM": "offscreen"})


def test_check_reads_ldd_of_the_plugin_and_adds_runtime_libraries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    qt = tmp_path / "PySide6" / "Qt"
    for binary in system_libs.QT_BINARIES:
        (qt / binary).parent.mkdir(parents=True, exist_ok=True)
        (qt / binary).write_bytes(b"\x7fELF")
    seen: list[str] = []

    def fake_ldd(path: Path) -> str:
        seen.append(path.name)
        return LDD_QXCB if path.name == "libqxcb.so" else ""

    monkeypatch.setattr(system_libs, "ldd", fake_ldd)
    monkeypatch.setattr(system_libs.shutil, "which", lambda name: "/usr/bin/ldd"
                        if name == "ldd" else None)  # ldd there, apt-cache not
    monkeypatch.setattr(system_libs, "loadable", lambda soname: soname != "libxcb-cursor.so.0")
    report = check(env={}, platform="linux", qt_dir=qt)
    assert seen == ["libqxcb.so", "libQt6XcbQpa.so.6", "libQt6Widgets.so.6"]
    assert report.checked and not report.ok
    assert report.missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert report.packages == ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"]
    assert "apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in report.text()


def test_without_ldd_the_dynamic_loader_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "plugins" / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF")
    monkeypatch.setattr(system_libs.shutil, "which", lambda name: None)
    monkeypatch.setattr(system_libs, "loadable", lambda soname: soname != "libxcb-icccm.so.4")
    report = check(env={}, platform="linux", qt_dir=qt)
    assert report.missing == ["libxcb-icccm.so.4"] and report.packages == ["libxcb-icccm4"]


def _env_without_offscreen() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # tests/conftest.py sets offscreen, which skips the check
    return env


# Loads each file given with the dynamic loader (as Qt loads the plugin); fails if any library
# it links, directly or not, is missing or too old.
LOAD_ALL = "import ctypes, sys\nfor path in sys.argv[1:]:\n    ctypes.CDLL(path)\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb check is Linux-only")
def test_real_check_on_this_machine_reads_the_xcb_plugin(monkeypatch: pytest.MonkeyPatch):
    qt = system_libs.pyside6_qt_dir()
    assert qt is not None, "PySide6 is installed, so its Qt folder is found"
    binaries = [qt / b for b in system_libs.QT_BINARIES]
    assert binaries[0].name == "libqxcb.so" and all(b.is_file() for b in binaries)
    read: dict[Path, str] = {}
    real_ldd = system_libs.ldd

    def spy(path: Path) -> str:
        read[path] = real_ldd(path)
        return read[path]

    monkeypatch.setattr(system_libs, "ldd", spy)
    report = check(env=_env_without_offscreen())
    assert report.checked, report.reason
    if shutil.which("ldd"):
        assert list(read) == binaries  # the plugin first, then the Qt libraries it needs
        # ldd really inspected the plugin: it resolves the plugin's own Qt library.
        assert re.search(r"libQt6XcbQpa\.so\.6 => \S*libQt6XcbQpa\.so\.6", read[binaries[0]])
    # Whether anything is missing, asked of the dynamic loader rather than of the check.
    loads = subprocess.run([sys.executable, "-c", LOAD_ALL, *map(str, binaries)],
                           capture_output=True, text=True, timeout=120)
    complete = loads.returncode == 0 and all(
        system_libs.loadable(s) for s in system_libs.RUNTIME_LIBS)
    assert report.ok == complete, report.text() + loads.stderr
    assert bool(report.packages) == bool(set(report.missing) - set(report.unknown))
    result = subprocess.run([sys.executable, "-m", "desk.ui.system_libs"], capture_output=True,
                            text=True, env=_env_without_offscreen(), timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == (0 if complete else 1), output
    assert ("apt-get install -y" in output) == bool(report.packages)
    for package in report.packages:
        assert package in output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb check is Linux-only")
def test_does_not_import_qt():
    """It must run where Qt cannot load: the whole check imports no PySide6 or shiboken6."""
    code = ("import sys\n"
            "from desk.ui import system_libs\n"
            "report = system_libs.check()\n"
            "assert report.checked, report.reason\n"
            "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
            "print(qt)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_env_without_offscreen(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
