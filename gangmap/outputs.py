"""Writing files safely: inside the output folder, atomically, never over an input.

A map that opens blank in the meeting is often a file cut short: a full disk,
a killed run, two runs writing one folder. And an analyst's original file
lost to ``--out`` pointing at it cannot be undone. So every file gangmap
writes goes through this module:

* :func:`atomic_path` / :func:`write_bytes` / :func:`write_text` write to a
  temporary file beside the target and rename it into place (``os.replace``
  is atomic on one file system): a reader sees the old file or the new one,
  never half of one;
* :func:`check_not_input` refuses a target that is one of the inputs;
* :func:`safe_name` keeps configured file names inside the output folder
  (no ``..``, no absolute paths, no folders, no control characters);
* :class:`OutputFolder` writes a whole pack into a temporary folder beside
  ``--out`` and swaps it in at the end, under a lock: a killed run leaves the
  previous pack or nothing, never a mix of two runs, and files from an
  earlier config do not linger;
* disk-full and read-only errors become one :class:`OutputError` line.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_text(d / "a.txt", "hello").read_text()
'hello'
>>> safe_name("../x", "map file")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
gangmap.errors.ConfigError: map file '../x' must be a plain file name inside the output folder ...
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import ConfigError, OutputError

__all__ = ["atomic_path", "write_bytes", "write_text", "check_not_input", "safe_name", "OutputFolder",
           "MANIFEST", "output_error"]

#: File that marks a folder as a gangmap pack (and lists what the last run wrote).
MANIFEST = ".gangmap-pack.json"

_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


#: Errors of the disk or folder itself (as opposed to, say, a broken download being written).
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO}


def output_error(exc: OSError, target: Path | str) -> OutputError:
    """One line for a failed write: what happened to which file, and what to do."""
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
              errno.EROFS: "the folder is read-only", errno.EACCES: "permission denied",
              errno.EPERM: "permission denied"}.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(f"{target}: cannot write ({reason}); nothing was left half-written. Free some space or "
                       "choose a folder you can write to (--out), and run again.")


@functools.cache
def _umask() -> int:
    """The process umask (read once: reading it means setting it for a moment)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share_like_a_new_file(path: Path, mode: int = 0o666) -> None:
    """Give ``path`` the mode ``open()`` or ``mkdir()`` would have; mkstemp and mkdtemp make them private.

    Maps and packs go to shared drives and email: a colleague must be able to open them.
    """
    os.chmod(path, mode & ~_umask())


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` if the block succeeds.

    For writers that need a file name (matplotlib, openpyxl). On any error the
    temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # The target's extension is kept, so a reader that goes by it can check the part file first.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise output_error(exc, target) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _share_like_a_new_file(tmp_path)
        os.replace(tmp_path, target)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if exc.errno in _DISK_ERRORS:
            raise output_error(exc, target) from None
        raise  # not the disk's fault (a broken download, say): the caller's error, as it was
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (flushed to disk before the rename)."""
    target = Path(target)
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return target


def write_text(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically."""
    return write_bytes(target, text.encode(encoding))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_not_input(target: str | Path, inputs: Iterable[str | Path | None], *, what: str = "output") -> None:
    """Refuse to write ``target`` when it is one of the ``inputs`` (or, for a folder, holds one)."""
    target = Path(target)
    for item in inputs:
        if item is None or not isinstance(item, (str, Path)):
            continue
        src = Path(item)
        if _same(target, src):
            raise ConfigError(f"{what} {target} is one of the inputs ({src}); writing it would destroy the input. "
                              "Choose another output name.")
        inside = False
        with contextlib.suppress(OSError):
            inside = target.is_dir() and src.resolve().is_relative_to(target.resolve())
        if inside:
            raise ConfigError(f"input {src} is inside the output folder {target}, which gangmap replaces as a "
                              "whole; move the input out, or choose another --out folder.")


def safe_name(name: object, what: str = "file name", *, example: str = "overview") -> str:
    """A configured file name, checked to stay inside the output folder."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{what} must be a non-empty file name such as {example!r}, got {name!r}.")
    text = name.strip()
    if _BAD_NAME.search(text) or text in (".", "..") or text.startswith(".") or Path(text).is_absolute() \
            or ":" in text:
        raise ConfigError(f"{what} {name!r} must be a plain file name inside the output folder (no folders, '..' "
                          f"or absolute paths), e.g. {example!r}.")
    return text


class OutputFolder:
    """A folder of outputs written as a whole, then swapped in for the previous one.

    Use as a context manager::

        with OutputFolder("pack", inputs=[...]) as out:
            out.write_text("index.html", page)
            maps.save(out.path("overview.html"))
        # here "pack" holds exactly this run's files

    The files go to a hidden temporary folder beside the target. When the
    block ends without error a manifest is written and the folder replaces
    the target (whose previous contents, from an earlier run or config, go);
    on an error, Ctrl-C or a kill, the target is untouched and the temporary
    folder removed (or, after a kill, removed by the next run). A lock file
    beside the target stops two runs writing one folder at once. An existing
    target is only replaced if it is empty or a previous gangmap pack.
    """

    def __init__(self, target: str | Path, *, inputs: Iterable[str | Path | None] = ()):
        self.target = Path(target).expanduser()
        self.inputs = [i for i in inputs if i is not None]
        self.files: list[Path] = []
        self._tmp: Path | None = None
        self._lock: Path | None = None

    # ---------------------------------------------------------------- checks
    def _check_target(self) -> None:
        t = self.target
        if t.exists() and not t.is_dir():
            raise ConfigError(f"--out {t} is a file; give a folder for the pack (it is created if missing).")
        check_not_input(t, self.inputs, what="output folder")
        if t.is_dir() and any(t.iterdir()) and not (t / MANIFEST).exists():
            raise ConfigError(f"--out {t} already holds files that gangmap did not write; a pack replaces its "
                              "folder as a whole, so choose a new or empty folder.")

    def _acquire(self) -> None:
        lock = self.target.parent / f".{self.target.name}.lock"
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if not _stale(lock):
                raise ConfigError(f"another gangmap run is writing {self.target} (lock {lock}); wait for it to "
                                  "finish, or delete the lock file if no run is active.") from None
            lock.unlink(missing_ok=True)
            return self._acquire()
        except OSError as exc:
            raise output_error(exc, self.target) from None
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        self._lock = lock

    # ---------------------------------------------------------------- use
    def __enter__(self) -> OutputFolder:
        self._check_target()
        self._acquire()
        try:
            _remove_leftovers(self.target)
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent))
            _share_like_a_new_file(self._tmp, 0o777)
        except OSError as exc:
            self._release()
            raise output_error(exc, self.target) from None
        return self

    @property
    def staging(self) -> Path:
        """The temporary folder this run writes into (swapped in for the target at the end)."""
        if self._tmp is None:
            raise RuntimeError("OutputFolder.staging is only available inside the with-block.")
        return self._tmp

    def path(self, name: str, what: str = "output file") -> Path:
        """Where to write ``name`` in this run (inside the temporary folder)."""
        if self._tmp is None:
            raise RuntimeError("OutputFolder.path() is only available inside the with-block.")
        p = self._tmp / safe_name(name, what)
        check_not_input(self.target / p.name, self.inputs)
        self.files.append(self.target / p.name)
        return p

    def write_text(self, name: str, text: str) -> Path:
        write_text(self.path(name), text)
        return self.target / name

    def write_bytes(self, name: str, data: bytes) -> Path:
        write_bytes(self.path(name), data)
        return self.target / name

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self._commit()
            elif self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
        finally:
            self._release()
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:  # the disk's fault; a missing input stays itself
            raise output_error(exc, self.target) from None

    def _commit(self) -> None:
        assert self._tmp is not None
        names = sorted(p.name for p in self._tmp.iterdir())
        try:
            write_text(self._tmp / MANIFEST, json.dumps({"files": names}, indent=1))
            old = None
            if self.target.exists():
                old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
                os.replace(self.target, old)
            os.replace(self._tmp, self.target)
        except OSError as exc:
            if old is not None and old.exists() and not self.target.exists():
                os.replace(old, self.target)  # the previous pack goes back: the reader sees it or the new one
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise output_error(exc, self.target) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            self._lock = None


def _stale(lock: Path) -> bool:
    """True when the process that wrote ``lock`` is gone (a killed run)."""
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return True
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _remove_leftovers(target: Path) -> None:
    """Temporary and old folders left beside ``target`` by a killed run.

    A run killed between moving the previous pack aside and moving the new one
    in leaves no target and one old folder: that previous pack is put back.
    """
    for p in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    old = sorted(target.parent.glob(f".{target.name}.old-*"))
    if not target.exists() and len(old) == 1:
        os.replace(old.pop(), target)
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
