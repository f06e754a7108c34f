"""One FieldApp per data dir: an OS file lock held for the life of the process.

The OS drops the lock when the process dies, however it dies, so a crash never leaves a
stale lock behind (unlike a PID file).
"""

from __future__ import annotations

import os
from pathlib import Path

from fieldapp.errors import DataDirLocked, DataDirUnwritable

if os.name == "nt":  # pragma: no cover - exercised on Windows builds only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        # Other OSErrors (ENOLCK on some network shares) propagate: the caller says the
        # folder cannot be used, rather than risking two writers.


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "fieldapp.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DataDirUnwritable(str(exc), path=self.path.parent, reason=exc.strerror or exc) from exc
        try:
            locked = _try_lock(fd)
        except OSError as exc:
            os.close(fd)
            raise DataDirUnwritable(str(exc), path=self.path.parent, reason=exc.strerror or exc) from exc
        if not locked:
            os.close(fd)
            raise DataDirLocked(path=self.path.parent)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:
            pass  # the lock itself is what counts; the pid is only a hint for people
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
