"""Where bytes come from: files, gzip files, zip members and folders, read safely.

Every reader gets a :class:`Source`: a named stream of *decompressed* bytes with its place
spelled out for messages (``archive.zip!sessions/a.ndjson.gz``). Sources guard against the
classic hostile inputs: zip members with absolute paths or ``..``, zip and gzip bombs (limits
on expanded size and on the expansion ratio, checked while streaming because headers lie),
truncated archives, and lines longer than any real event.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
ZIP_EMPTY_MAGIC = b"PK\x05\x06"

#: The longest single line (or JSON document in a container) we accept. A real rrweb
#: FullSnapshot of a very large page is tens of MB; a line of gigabytes is damage.
MAX_LINE_BYTES = 256 * 1024 * 1024
#: Expanded size beyond which a compressed stream must also stay under MAX_RATIO.
RATIO_FLOOR_BYTES = 16 * 1024 * 1024
#: Expansion ratio no real recording reaches (JSON compresses 10-30x).
MAX_RATIO = 200
#: Hard cap on the expanded size of any one compressed stream or zip.
MAX_EXPANDED_BYTES = 16 * 1024 * 1024 * 1024

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Safety limits; tests shrink them to exercise the guards on small files."""

    max_line_bytes: int = MAX_LINE_BYTES
    ratio_floor_bytes: int = RATIO_FLOOR_BYTES
    max_ratio: int = MAX_RATIO
    max_expanded_bytes: int = MAX_EXPANDED_BYTES


DEFAULT_LIMITS = Limits()


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _GuardedStream(io.RawIOBase):
    """Counts decompressed bytes against the compressed bytes consumed and stops bombs."""

    def __init__(self, inner: BinaryIO, compressed_size: callable, name: str, limits: Limits):
        self._inner = inner
        self._compressed_size = compressed_size
        self._name = name
        self._limits = limits
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except EOFError as exc:
            raise InputError("the compressed data is truncated (it ends before its end marker)",
                             path=self._name, where=f"after {self._out:,} bytes",
                             hint="the file was cut short; obtain a complete copy") from exc
        except (OSError, zlib.error, zipfile.BadZipFile) as exc:
            raise InputError(f"the compressed data is damaged ({exc})", path=self._name,
                             where=f"after {self._out:,} bytes",
                             hint="obtain an undamaged copy of the file") from exc
        n = len(data)
        buffer[:n] = data
        self._out += n
        self._check()
        return n

    def _check(self) -> None:
        limits = self._limits
        if self._out > limits.max_expanded_bytes:
            raise InputError(
                f"expands to more than {limits.max_expanded_bytes:,} bytes; refusing it as a "
                "possible decompression bomb", path=self._name,
                hint="decompress it yourself if you trust it")
        if self._out > limits.ratio_floor_bytes:
            packed = max(1, self._compressed_size())
            if self._out / packed > limits.max_ratio:
                raise InputError(
                    f"expands more than {limits.max_ratio}x ({packed:,} bytes became "
                    f"{self._out:,} so far); refusing it as a possible decompression bomb",
                    path=self._name, hint="decompress it yourself if you trust it")


class Source:
    """One readable unit: a file on disk or a zip member, decompressed on the fly."""

    def __init__(self, name: str, *, path: Path | None = None,
                 zip_file: zipfile.ZipFile | None = None,
                 member: zipfile.ZipInfo | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.name = name
        self.path = path
        self._zip = zip_file
        self._member = member
        self.limits = limits
        self._gzip: bool | None = None

    # -- raw (stored) bytes ---------------------------------------------------------------
    def open_raw(self) -> BinaryIO:
        if self.path is not None:
            return open(self.path, "rb")
        assert self._zip is not None and self._member is not None
        try:
            raw = self._zip.open(self._member)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
            raise InputError(f"cannot open this zip member ({exc})", path=self.name,
                             hint="the archive is damaged or uses an unsupported method") from exc
        return _GuardedStream(raw, lambda: self._member.compress_size, self.name,  # type: ignore[return-value]
                              self.limits)  # zip bombs are caught while streaming

    @property
    def stored_size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        assert self._member is not None
        return self._member.file_size

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.open_raw() as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    # -- decompressed bytes ---------------------------------------------------------------
    @property
    def is_gzip(self) -> bool:
        if self._gzip is None:
            with self.open_raw() as fh:
                self._gzip = fh.read(2) == GZIP_MAGIC
        return self._gzip

    def open(self) -> BinaryIO:
        """The decompressed content (gzip is undone transparently, whatever the name says)."""
        raw = self.open_raw()
        if not self.is_gzip:
            return raw
        counter = _CountingReader(raw)
        unpacked = gzip.GzipFile(fileobj=counter, mode="rb")
        guarded = _GuardedStream(unpacked, lambda: counter.count, self.name, self.limits)
        return io.BufferedReader(guarded, buffer_size=_CHUNK)  # type: ignore[return-value]

    def head(self, size: int = 4096) -> bytes:
        """The first ``size`` decompressed bytes, for format detection."""
        try:
            with self.open() as fh:
                return fh.read(size)
        except InputError as exc:
            if "truncated" in exc.reason and self.is_gzip:
                return _salvage_gzip_head(self, size)
            raise

    def read_all(self) -> bytes:
        """The whole decompressed content, for container formats parsed as one document."""
        with self.open() as fh:
            chunks = []
            total = 0
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > self.limits.max_line_bytes:
                    raise InputError(
                        f"is one JSON document of more than {self.limits.max_line_bytes:,} "
                        "bytes, too large to read whole", path=self.name,
                        hint="export it as NDJSON (one event per line), which streams")
                chunks.append(chunk)
        return b"".join(chunks)

    def iter_lines(self) -> Iterator[tuple[int, bytes | None]]:
        """Yield ``(line_number, bytes)`` from 1; ``bytes`` is None for an over-long line.

        Over-long lines are skipped without ever being held in memory whole.
        """
        limit = self.limits.max_line_bytes
        with self.open() as fh:
            number = 0
            while True:
                line = fh.readline(limit + 1)
                if not line:
                    return
                number += 1
                if len(line) > limit and not line.endswith(b"\n"):
                    while True:  # drain the rest of the monster line
                        rest = fh.readline(_CHUNK)
                        if not rest or rest.endswith(b"\n"):
                            break
                    yield number, None
                    continue
                yield number, line

    def __repr__(self) -> str:
        return f"Source({self.name!r})"


class _CountingReader(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _salvage_gzip_head(source: Source, size: int) -> bytes:
    with source.open_raw() as fh:
        packed = fh.read(max(size * 64, 1 << 20))
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(packed, size)


def member_problem(name: str) -> str | None:
    """Why a zip member name is unsafe to use, or None."""
    if "\x00" in name:
        return "its name contains a NUL byte"
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "its name is an absolute path"
    if ".." in posix.parts:
        return "its name climbs out of the archive with '..'"
    return None


class ZipArchive:
    """A zip file opened with its members checked before anything is read."""

    def __init__(self, path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise InputError(f"is not a readable zip archive ({exc})", path=str(path),
                             hint="the file is truncated or damaged; obtain a complete copy"
                             ) from exc
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", path=str(path)) from exc
        total = sum(info.file_size for info in self.zip.infolist())
        if total > limits.max_expanded_bytes:
            raise InputError(f"declares {total:,} expanded bytes, over the limit of "
                             f"{limits.max_expanded_bytes:,}; refusing it as a possible zip bomb",
                             path=str(path))
        packed = max(1, sum(info.compress_size for info in self.zip.infolist()))
        if total > limits.ratio_floor_bytes and total / packed > limits.max_ratio:
            raise InputError(f"declares an expansion of {total / packed:,.0f}x; refusing it as a "
                             "possible zip bomb", path=str(path))

    def members(self) -> list[zipfile.ZipInfo]:
        return [info for info in self.zip.infolist() if not info.is_dir()]

    def source(self, info: zipfile.ZipInfo) -> Source:
        problem = member_problem(info.filename)
        if problem:
            raise InputError(f"unsafe member: {problem}", path=f"{self.path}!{info.filename}",
                             hint="the archive was crafted or damaged; nothing was extracted")
        return Source(f"{self.path}!{info.filename}", zip_file=self.zip, member=info,
                      limits=self.limits)

    def find(self, name: str) -> zipfile.ZipInfo | None:
        normal = name.replace("\\", "/").lstrip("./") if name.startswith("./") else name
        for info in self.members():
            if info.filename == normal:
                return info
        return None

    def close(self) -> None:
        self.zip.close()


def is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (ZIP_MAGIC, ZIP_EMPTY_MAGIC)
    except OSError:
        return False
