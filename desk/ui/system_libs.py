"""Which system libraries Desk's window lacks on Linux, and the apt-get command that adds them.

The PySide6 wheels bring Qt but not the X11/xcb, OpenGL, fontconfig and D-Bus libraries that
Qt's xcb platform plugin links against; a fresh Debian or Ubuntu desktop lacks several of them
(libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, ...), and the window then never opens ("Could
not load the Qt platform plugin "xcb""). This module runs `ldd` on the plugin and its Qt
libraries, asks the dynamic loader for the libraries Qt opens at run time, maps each missing
library to its Debian/Ubuntu package and prints the command to install them.

    python -m desk.ui.system_libs      # exit 1 (and the apt-get command) if anything is missing

Standard library only, and no Qt import: it must run where Qt cannot load. Nothing to check on
macOS or Windows (the wheels carry what Qt needs there), nor when QT_QPA_PLATFORM names a
platform other than xcb (offscreen, wayland, ...)."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Library (soname) -> the Debian/Ubuntu package that ships it (Debian 12 and Ubuntu 22.04/24.04
# names; checked with dpkg -S on Debian 12). On releases after the 64-bit time_t transition a
# few packages carry a "t64" suffix (libglib2.0-0t64, libpng16-16t64): `packages_for` asks
# apt-cache which name the machine knows.
SONAME_PACKAGES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libexpat.so.1": "libexpat1",
    "libpng16.so.16": "libpng16-16",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libsystemd.so.0": "libsystemd0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "libbsd.so.0": "libbsd0",
    "libmd.so.0": "libmd0",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}

# Opened with dlopen() by Qt rather than only linked, so ldd alone may not show them missing:
# Qt 6.5+ asks for libxcb-cursor before it loads the xcb plugin ("From 6.5.0, xcb-cursor0 or
# libxcb-cursor0 is needed to load the Qt xcb platform plugin").
RUNTIME_LIBS: tuple[str, ...] = ("libxcb-cursor.so.0",)

# What PySide6 6.11's xcb plugin links (readelf -d): checked with the dynamic loader where no
# `ldd` exists (a minimal container), so the check still says something useful.
XCB_PLUGIN_LINKS: tuple[str, ...] = (
    "libGL.so.1", "libEGL.so.1", "libxkbcommon.so.0", "libxkbcommon-x11.so.0",
    "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-util.so.1", "libxcb-image.so.0",
    "libxcb-keysyms.so.1", "libxcb-randr.so.0", "libxcb-render-util.so.0", "libxcb-shm.so.0",
    "libxcb-sync.so.1", "libxcb-xfixes.so.0", "libxcb-render.so.0", "libxcb-shape.so.0",
    "libxcb-xkb.so.1", "libxcb.so.1", "libX11-xcb.so.1", "libX11.so.6", "libfontconfig.so.1",
    "libfreetype.so.6", "libglib-2.0.so.0", "libgthread-2.0.so.0", "libdbus-1.so.3",
)

# The xcb plugin and the Qt libraries it needs, relative to PySide6/Qt.
QT_BINARIES: tuple[str, ...] = (
    "plugins/platforms/libqxcb.so",
    "lib/libQt6XcbQpa.so.6",
    "lib/libQt6Widgets.so.6",
)

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)
_VERSION_NOT_FOUND = re.compile(r"version [`'](\S+)' not found", re.MULTILINE)


@dataclass
class Report:
    """The outcome of a check: `checked` is False where there was nothing to check."""

    checked: bool
    reason: str = ""
    missing: list[str] = field(default_factory=list)  # sonames, sorted
    packages: list[str] = field(default_factory=list)  # Debian/Ubuntu packages, sorted
    unknown: list[str] = field(default_factory=list)  # missing sonames with no known package
    version_errors: list[str] = field(default_factory=list)  # e.g. GLIBC_2.34: system too old
    root: bool = False  # running as root: the command needs no sudo

    @property
    def ok(self) -> bool:
        return not (self.missing or self.version_errors)

    @property
    def command(self) -> str:
        """The install command, or "" when no known package is missing."""
        if not self.packages:
            return ""
        return ("" if self.root else "sudo ") + "apt-get install -y " + " ".join(self.packages)

    def text(self) -> str:
        if not self.checked:
            return f"system libraries: not checked ({self.reason})"
        if self.ok:
            return f"system libraries: everything Qt's xcb platform plugin needs is installed ({self.reason})"
        lines = []
        if self.missing:
            lines.append("Desk's window cannot open: Qt's xcb platform plugin needs system "
                         "libraries that are missing:")
            for soname in self.missing:
                package = SONAME_PACKAGES.get(soname)
                where = f"package {package}" if package else _no_package_hint(soname)
                lines.append(f"  {soname:26s} ({where})")
        if self.version_errors:
            lines.append("The system libraries are too old for this Qt (needs "
                         + ", ".join(self.version_errors)
                         + "): use a newer distribution (Debian 12, Ubuntu 22.04 or later).")
        if self.command:
            lines.append("Install them with (Debian/Ubuntu package names; other distributions "
                         "name them differently):")
            lines.append(f"  {self.command}")
        return "\n".join(lines)


def _no_package_hint(soname: str) -> str:
    if soname.startswith(("libQt6", "libpyside6", "libshiboken6")):
        return "part of PySide6: reinstall pyside6-essentials"
    return f"no known package; `apt-file search {soname}` names it"


def missing_in_ldd(text: str) -> list[str]:
    """The libraries ldd reports as "not found", in order, once each."""
    return list(dict.fromkeys(_NOT_FOUND.findall(text)))


def version_errors_in_ldd(text: str) -> list[str]:
    """Symbol versions ldd reports missing (`GLIBC_2.34' not found): a too-old system."""
    return list(dict.fromkeys(_VERSION_NOT_FOUND.findall(text)))


def packages_for(sonames: Iterable[str],
                 resolve: bool = True) -> tuple[list[str], list[str]]:
    """(Debian/Ubuntu packages, sonames with no known package), both sorted and unique.
    With `resolve`, the names are checked against apt-cache (t64 renames)."""
    packages: set[str] = set()
    unknown: set[str] = set()
    for soname in sonames:
        package = SONAME_PACKAGES.get(soname)
        if package is None:
            unknown.add(soname)
        else:
            packages.add(package)
    if resolve and packages:
        known = apt_candidates([n for p in packages for n in (p, p + "t64")])
        packages = {debian_package(p, known) for p in packages}
    return sorted(packages), sorted(unknown)


def debian_package(name: str, known: set[str] | None) -> str:
    """`name`, or `name`t64 where apt knows only that one (Debian 13, Ubuntu 24.04). With
    `known` None (no apt-cache, or an empty package list) the name as it is."""
    if not known or name in known or name + "t64" not in known:
        return name
    return name + "t64"


def apt_candidates(names: Iterable[str]) -> set[str] | None:
    """Which of `names` apt can install (one `apt-cache policy` call); None without apt."""
    if shutil.which("apt-cache") is None:
        return None
    try:
        result = subprocess.run(["apt-cache", "policy", *names], capture_output=True,
                                text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_apt_policy(result.stdout)


def parse_apt_policy(text: str) -> set[str]:
    """The packages in `apt-cache policy` output that have a candidate version."""
    known: set[str] = set()
    package = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            package = line[:-1].split(":")[0]  # "libfoo:" or "libfoo:amd64:"
        elif line.strip().startswith("Candidate:") and package:
            if line.split(":", 1)[1].strip() != "(none)":
                known.add(package)
    return known


def pyside6_qt_dir() -> Path | None:
    """PySide6's Qt folder (plugins/, lib/), found without importing Qt; also in a PyInstaller
    bundle, where PySide6's binaries sit under sys._MEIPASS."""
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "PySide6" / "Qt")
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "Qt" for p in spec.submodule_search_locations]
    return next((c for c in candidates if (c / "plugins" / "platforms").is_dir()), None)


def ldd(path: Path) -> str:
    """ldd's report on `path` (stdout and stderr: version errors go to stderr)."""
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def loadable(soname: str) -> bool:
    """Whether the dynamic loader finds `soname` (what Qt's dlopen() will see)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(env: Mapping[str, str]) -> bool:
    """False when QT_QPA_PLATFORM names only other platforms ("offscreen", "wayland")."""
    platforms = [p.split(":")[0].strip() for p in env.get("QT_QPA_PLATFORM", "").split(";")]
    platforms = [p for p in platforms if p]
    return not platforms or "xcb" in platforms


def check(env: Mapping[str, str] | None = None, platform: str | None = None,
          qt_dir: Path | None = None) -> Report:
    """Check what Qt's xcb platform plugin needs on this machine."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return Report(checked=False, reason=f"nothing to check on {platform}")
    if not uses_xcb(env):
        return Report(checked=False, reason=f"QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']}")
    qt = qt_dir or pyside6_qt_dir()
    if qt is None:
        return Report(checked=False, reason="PySide6 is not installed")
    binaries = [qt / b for b in QT_BINARIES if (qt / b).exists()]
    if not (qt / QT_BINARIES[0]).exists():
        return Report(checked=False, reason=f"PySide6 has no xcb plugin in {qt}")
    missing: list[str] = []
    versions: list[str] = []
    if shutil.which("ldd"):
        for binary in binaries:
            text = ldd(binary)
            missing += missing_in_ldd(text)
            versions += version_errors_in_ldd(text)
        how = f"ldd on {len(binaries)} Qt files"
    else:
        missing += [s for s in XCB_PLUGIN_LINKS if not loadable(s)]
        how = "no ldd: asked the dynamic loader"
    missing += [s for s in RUNTIME_LIBS if s not in missing and not loadable(s)]
    missing = sorted(set(missing))
    packages, unknown = packages_for(missing)
    return Report(checked=True, reason=f"{how} and {len(RUNTIME_LIBS)} run-time libraries",
                  missing=missing, packages=packages, unknown=unknown,
                  version_errors=sorted(set(versions)), root=_is_root())


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def main() -> int:
    report = check()
    print(report.text(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
