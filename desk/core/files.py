"""Files Desk writes: atomically (a kill leaves the old file or the new, never half of one) and
private to the user (client text must not be readable by other accounts).

Private means no access for group and others on POSIX: folders 0700, and files keep only their
owner's bits (0600 for the files Desk writes, which are created so; an owner execute bit is
never dropped). On Windows nothing is changed: Desk's data folder is in the user's profile
(%LOCALAPPDATA%), whose ACL grants only the user, SYSTEM and Administrators, and files created
there inherit it; setting ACLs would need pywin32 for no gain.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a private temporary file beside `path`, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        make_private(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def replace_atomically(tmp: Path, path: Path) -> None:
    """Finish a write made to `tmp` by someone else (hnswlib, llama.cpp): fsync, private, rename."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    make_private(tmp)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return  # directories cannot be opened for fsync on Windows; rename is durable there
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private(path: Path) -> None:
    """Owner-only access on POSIX (nothing on Windows, see above): folders 0700; files lose
    their group and other bits and keep the owner's (a 0644 file becomes 0600, a 0755 one 0700).
    Symbolic links are left alone: their targets are not Desk's to change."""
    if sys.platform == "win32":
        return
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    _chmod_private(path, st)


def _chmod_private(path: Path | str, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        return
    current = stat.S_IMODE(st.st_mode)
    mode = PRIVATE_DIR_MODE if stat.S_ISDIR(st.st_mode) else current & 0o700
    if current != mode:
        os.chmod(path, mode)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) owner-only, and return it. Only `path` itself is made
    private when it exists already: its parents (the user's own folders) are not Desk's."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    make_private(path)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty and owner-only if it is missing (for files a library then opens, such
    as a SQLite database, whose journal files take the database's mode); make it private if not."""
    if sys.platform != "win32":
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))
        except FileExistsError:
            pass
    make_private(path)
    return path


def private_umask() -> None:
    """Make every file this process creates from now on private, including those made by
    SQLite, hnswlib, ONNX Runtime and llama.cpp (called first thing at Desk's entry points)."""
    if sys.platform != "win32":
        os.umask(0o077)


def tighten_tree(root: Path) -> None:
    """Make an existing folder of Desk's private, everything in it included. Only metadata is
    touched (one lstat per entry, chmod where needed), so large model files cost nothing;
    symbolic links and what they point to are left alone."""
    if sys.platform == "win32" or not root.is_dir():
        return
    make_private(root)
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # vanished or unreadable: nothing of ours to tighten
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
                _chmod_private(entry.path, st)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)


def tighten_owned(root: Path, owned: Iterable[str]) -> None:
    """Make `root` private and, of what it holds, only the entries whose names match one of the
    `owned` glob patterns (folders with everything in them). Anything else in `root` is the
    user's and is left as it is."""
    if sys.platform == "win32" or not root.is_dir():
        return
    patterns = list(owned)
    make_private(root)
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if not any(fnmatch.fnmatchcase(entry.name, p) for p in patterns):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            tighten_tree(Path(entry.path))
        else:
            try:
                _chmod_private(entry.path, st)
            except OSError:
                continue
