"""Reading a user's file with a size limit checked before its content is read.

A path can name something that is not a small file: a huge (or sparse) file, ``/dev/zero``, a FIFO that
never ends, a directory. :func:`read_limited` looks at the file's size first, then reads at most one
byte past the limit, so none of these is read whole: each ends in one :class:`FileTooLarge` or
:class:`OSError` that the caller turns into a message naming the file.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO


class FileTooLarge(Exception):
    """More than the limit; ``size`` is the file's size when it is known, else None (a stream)."""

    def __init__(self, limit: int, size: int | None):
        self.limit = limit
        self.size = size
        if size is not None:
            text = f"file is {size:,} bytes; the limit is {limit:,}"
        else:
            text = f"more than {limit:,} bytes; the limit is {limit:,}"
        super().__init__(text)


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of ``path``, or :class:`FileTooLarge` without reading past ``limit`` + 1 bytes."""
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise FileTooLarge(limit, info.st_size)
        return read_stream_limited(handle, limit)


def read_stream_limited(stream: BinaryIO, limit: int) -> bytes:
    """At most ``limit`` bytes of ``stream`` (stdin, a FIFO, a device), or :class:`FileTooLarge`."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise FileTooLarge(limit, None)
    return b"".join(chunks)
