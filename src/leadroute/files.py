"""Writing output files: a private temporary file next to the target, then an atomic replace.

Every file leadroute writes (CSV outputs, the dashboard, the JSON report, diffs, exception
reports, the demo's files) goes through ``write_bytes_atomic``:

* the temporary file is created with a random name, ``O_CREAT | O_EXCL`` and mode 0600
  (``tempfile.mkstemp``), so nobody can plant a symlink at a predictable ``<out>.tmp`` and
  have us write through it, and nobody else can read it while it is being written;
* ``os.replace`` then renames it over the target: a reader never sees half a file, and a
  symlink planted *at the target* is replaced as a link, never followed (its target is not
  touched);
* an ``OSError`` (the target is a folder, the folder is a file, no permission, a full disk)
  becomes ``OutputFileError``: one line naming the file, exit 2.

The written file keeps the temporary file's 0600 mode: outputs name leads and owners.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import TextIO

from leadroute.errors import OutputFileError

__all__ = ["open_private", "write_bytes_atomic", "write_text_atomic"]

_REASONS = {
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "no space left on the device",
    errno.EROFS: "the file system is read-only",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns ``path``."""
    path = Path(path)
    tmp = ""
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise OutputFileError(f"cannot write: {_reason(exc)}", file=str(path)) from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def open_private(path: Path) -> TextIO:
    """A text file for writing as it goes (a stream of messages), never through a symlink.

    For output that cannot be written at once: created or truncated with mode 0600 and
    ``O_NOFOLLOW``, so a symlink planted at ``path`` is refused instead of followed.
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        reason = "is a symlink" if exc.errno == errno.ELOOP else _reason(exc)
        raise OutputFileError(f"cannot write: {reason}", file=str(path)) from None
    return os.fdopen(fd, "w", encoding="utf-8")
