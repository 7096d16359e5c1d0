"""Output files: private temporary file, atomic replace, never through a symlink; errors are one line."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from leadroute.errors import OutputFileError
from leadroute.files import open_private, write_bytes_atomic, write_text_atomic


def test_write_replaces_the_target_atomically_and_privately(tmp_path):
    """The target holds the new bytes, mode 0600, and no temporary file is left behind."""
    target = tmp_path / "out" / "report.json"
    write_text_atomic(target, "old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    """A symlink planted at the output path is replaced by the file; its target is untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "report.json"
    target.symlink_to(victim)
    write_text_atomic(target, "report")
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and target.read_text() == "report"


def test_symlink_at_the_old_temporary_name_is_never_followed(tmp_path):
    """A symlink at the predictable <out>.tmp (how the dashboard used to write) stays untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "dashboard.html"
    (tmp_path / "dashboard.html.tmp").symlink_to(victim)
    write_text_atomic(target, "<html>")
    assert victim.read_text() == "precious" and target.read_text() == "<html>"


@pytest.mark.parametrize(
    ("layout", "reason"),
    [
        ("target is a folder", "is a folder, not a file"),
        ("parent is a file", "a part of the path is a file, not a folder"),
        ("grandparent is a file", "a part of the path is a file, not a folder"),
    ],
)
def test_unwritable_places_are_one_line(tmp_path, layout, reason):
    """A folder at the target or a file in the path is an OutputFileError naming the file."""
    (tmp_path / "existing").mkdir()
    (tmp_path / "plain").write_text("x")
    target = {
        "target is a folder": tmp_path / "existing",
        "parent is a file": tmp_path / "plain" / "out.csv",
        "grandparent is a file": tmp_path / "plain" / "sub" / "out.csv",
    }[layout]
    with pytest.raises(OutputFileError) as caught:
        write_bytes_atomic(target, b"data")
    assert str(caught.value) == f"{target}: cannot write: {reason}"
    assert caught.value.exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_one_line(tmp_path):
    """A folder this process may not write in is an OutputFileError, not a PermissionError."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputFileError, match="permission denied"):
            write_bytes_atomic(folder / "out.csv", b"data")
    finally:
        folder.chmod(0o700)


def test_stream_output_refuses_a_symlink(tmp_path):
    """A file written as it goes (the demo's messages) is never opened through a symlink."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "messages.txt").symlink_to(victim)
    with pytest.raises(OutputFileError, match="is a symlink"):
        open_private(tmp_path / "messages.txt")
    assert victim.read_text() == "precious"
    with open_private(tmp_path / "other.txt") as stream:
        stream.write("hello")
    assert (tmp_path / "other.txt").read_text() == "hello"


def test_full_disk_is_one_line_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    """Any other OSError (here a full disk) is an OutputFileError; the temporary file is removed."""

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("leadroute.files.os.fsync", full)
    with pytest.raises(OutputFileError, match="no space left on the device"):
        write_bytes_atomic(tmp_path / "out.csv", b"data")
    assert list(tmp_path.iterdir()) == []
