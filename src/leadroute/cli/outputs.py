"""Checking where a command will write, before it decides anything.

A run commits its decisions to the store before it writes files; an ``--out`` that turns
out to be a file or a read-only place would then fail with the work half done. Each
command checks its output places first and stops with one line (exit 2) instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from leadroute.errors import UserInputError

__all__ = ["check_file", "check_folder"]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_folder(path: Path, option: str) -> None:
    """``path`` is (or can be made) a folder this process can write files in.

    Creates the folder when it is missing (the run would create it anyway) and writes and
    removes a probe file: permissions, read-only mounts and full disks all show there.
    """
    if path.exists() and not path.is_dir():
        raise UserInputError(f"{option}: {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"{option}: cannot create folder {path}: {_reason(exc)}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".leadroute-probe-")
    except OSError as exc:
        raise UserInputError(f"{option}: cannot write in {path}: {_reason(exc)}") from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


def check_file(path: Path, option: str) -> None:
    """``path`` can be written as a file: not a folder, in a folder this process can write."""
    if path.is_dir():
        raise UserInputError(f"{option}: {path} is a folder; give a file name")
    check_folder(path.parent, option)
