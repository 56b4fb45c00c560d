"""gangmap.outputs: atomic files, whole-folder packs, locks, inputs never overwritten."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gangmap.errors import ConfigError, OutputError
from gangmap.outputs import MANIFEST, OutputFolder, atomic_path, check_not_input, safe_name, write_text

REPO = Path(__file__).resolve().parents[1]


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "map.html"
    write_text(target, "old")
    with pytest.raises(OutputError, match="disk is full"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]  # no temporary file left


def test_files_and_packs_are_readable_by_colleagues(tmp_path):
    """Written files get the mode open() gives under the umask (mkstemp alone would make them 0600)."""
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "map.html", "x")
        with OutputFolder(tmp_path / "pack") as out:
            write_text(out.path("index.html"), "x")
    finally:
        os.umask(old)
    assert (tmp_path / "map.html").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "pack").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "pack" / "index.html").stat().st_mode & 0o777 == 0o644


def test_read_only_folder_is_one_line_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write read-only folders (root)")
        with pytest.raises(OutputError, match="permission denied"):
            write_text(ro / "x.csv", "a")
    finally:
        ro.chmod(0o700)


def test_read_only_file_system_is_one_line_error(tmp_path, monkeypatch):
    import tempfile

    def refuse(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match=r"x.csv: cannot write \(the folder is read-only\)"):
        write_text(tmp_path / "x.csv", "a")


@pytest.mark.parametrize("name", ["../x", "/abs/x", "a/b", "", "..", ".hidden", "a\nb", "C:x", None, 3])
def test_configured_names_stay_inside(name):
    with pytest.raises(ConfigError):
        safe_name(name)


def test_inputs_are_never_outputs(tmp_path):
    src = tmp_path / "reports.csv"
    src.write_text("x")
    with pytest.raises(ConfigError, match="one of the inputs"):
        check_not_input(tmp_path / "." / "reports.csv", [src])
    with pytest.raises(ConfigError, match="inside the output folder"):
        check_not_input(tmp_path, [src])


def test_pack_folder_swaps_in_whole_and_drops_old_files(tmp_path):
    out = tmp_path / "pack"
    with OutputFolder(out) as f:
        f.write_text("a.html", "1")
        f.write_text("b.html", "1")
    with OutputFolder(out) as f:
        f.write_text("a.html", "2")
    assert sorted(p.name for p in out.iterdir()) == sorted(["a.html", MANIFEST])
    assert (out / "a.html").read_text() == "2"
    assert not list(tmp_path.glob(".pack.*"))  # no temporary, old or lock files left


def test_failed_run_leaves_previous_pack(tmp_path):
    out = tmp_path / "pack"
    with OutputFolder(out) as f:
        f.write_text("a.html", "good")
    with pytest.raises(RuntimeError):
        with OutputFolder(out) as f:
            f.write_text("a.html", "half")
            raise RuntimeError("crash")
    assert (out / "a.html").read_text() == "good"


def test_refuses_a_folder_of_someone_elses_files_and_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="did not write"):
        OutputFolder(tmp_path).__enter__()
    with pytest.raises(ConfigError, match="is a file"):
        OutputFolder(tmp_path / "notes.txt").__enter__()


def test_lock_stops_a_second_run_and_stale_locks_clear(tmp_path):
    out = tmp_path / "pack"
    with OutputFolder(out):
        with pytest.raises(ConfigError, match="another gangmap run"):
            OutputFolder(out).__enter__()
    (tmp_path / ".pack.lock").write_text("999999999")  # a process that no longer exists
    with OutputFolder(out) as f:
        f.write_text("a.html", "1")
    assert (out / "a.html").exists()


def test_killed_run_leaves_previous_pack_or_nothing(tmp_path):
    out = tmp_path / "pack"
    with OutputFolder(out) as f:
        f.write_text("a.html", "good")
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from gangmap.outputs import OutputFolder
        with OutputFolder({str(out)!r}) as f:
            f.write_text("a.html", "new")
            f.write_text("b.html", "new")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    res = subprocess.run([sys.executable, "-c", script])
    assert res.returncode == -signal.SIGKILL
    assert sorted(p.name for p in out.iterdir()) == sorted(["a.html", MANIFEST])
    assert (out / "a.html").read_text() == "good"
    with OutputFolder(out) as f:  # the next run clears the leftovers of the killed one
        f.write_text("c.html", "x")
    assert not list(tmp_path.glob(".pack.*"))


def test_an_input_that_cannot_be_read_is_not_called_a_full_disk(tmp_path):
    """Only the disk's own errors become OutputError; a missing input inside the run stays what it is."""
    with pytest.raises(FileNotFoundError):
        with OutputFolder(tmp_path / "pack") as out:
            write_text(out.path("a.html"), "x")
            (tmp_path / "missing.csv").read_text()
    assert not (tmp_path / "pack").exists()


def test_a_failed_swap_puts_the_previous_pack_back(tmp_path, monkeypatch):
    """If the new pack cannot be renamed in, the previous one is renamed back: never no pack and a message
    saying nothing was left half-written."""
    with OutputFolder(tmp_path / "pack") as out:
        write_text(out.path("old.html"), "old")
    real = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 3:  # the manifest, the old pack aside, then the new pack in: that one fails
            raise OSError(errno.EIO, "I/O error")
        return real(src, dst)

    with pytest.raises(OutputError, match="cannot write"):
        with OutputFolder(tmp_path / "pack") as out:
            write_text(out.path("new.html"), "new")
            monkeypatch.setattr(os, "replace", second_fails)
    monkeypatch.setattr(os, "replace", real)
    assert (tmp_path / "pack" / "old.html").read_text() == "old"
    assert not (tmp_path / "pack" / "new.html").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
