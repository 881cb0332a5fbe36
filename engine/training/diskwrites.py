"""Writing a run's files when the disk may fill: appends that leave no half line, and telling a
full disk from other failures (safetensors reports it as text, not as an OSError).
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path

# The disk (or the quota, or a file size limit) has no room: a write elsewhere in the same
# folder would fail too.
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NO_ROOM_WORDS = ("No space left on device", "Disk quota exceeded", "File too large",
                  "os error 28", "os error 122", "os error 27")


def no_room(exc: BaseException) -> bool:
    """The write failed because the disk (or quota, or file size limit) is full."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        return True
    return any(words in str(exc) for words in _NO_ROOM_WORDS)


def errno_of(message: str) -> int:
    """The errno in safetensors' "I/O error: ... (os error 28)"; EIO when it names none."""
    found = re.search(r"os error (\d+)", message)
    if found:
        return int(found.group(1))
    return errno.ENOSPC if "No space left on device" in message else errno.EIO


def reason_of(message: str) -> str:
    """"No space left on device" out of safetensors' "Error while serializing: I/O error: ..."."""
    found = re.search(r"I/O error: (.*?)(?: \(os error \d+\))?$", message.strip())
    return found.group(1) if found else " ".join(message.split())


def append_whole(path: Path, data: bytes) -> None:
    """Append `data` (whole lines) in one go; on failure (a full disk) the file is cut back
    to its old end, so no half line is left for a reader to wait on."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:  # one write of whole lines: a reader sees them all, or a prefix
                view = view[os.write(fd, view):]
        except OSError:
            try:
                os.ftruncate(fd, start)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)
