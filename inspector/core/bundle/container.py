"""The zip around a bag, in one canonical form, so that every byte of a bundle can be checked.

Members are stored, not compressed, sorted by name, under one top-level folder (the bag's base
directory, as RFC 8493 asks of a serialized bag), with a fixed time (1980-01-01 00:00), mode
0644, no extra fields and no comments. Stored members put every byte of content under the zip's
CRC-32 and the bag's sha256; the canonical form means that writing the extracted bag again
must give the very same bytes, which is how ``verify`` notices a change outside the contents
(a header, the central directory). A compressed member could hide a change in the unused
bits of its last byte, and deflate's output depends on the zlib build; stored ones cannot.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..cancel import CancelToken

DATE_TIME = (1980, 1, 1, 0, 0, 0)
MODE = 0o644
_CHUNK = 1 << 20


class ContainerError(Exception):
    """The zip is not a bundle's, or one of its members cannot be read back intact."""


def files_under(root: Path) -> list[str]:
    """Every file below ``root`` as a relative POSIX path, in the order the zip holds them."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in filenames:
            found.append((Path(dirpath) / filename).relative_to(root).as_posix())
    return sorted(found)


def write_zip(root: Path, top: str, out: Path, *, cancel: CancelToken | None = None,
              done: Callable[[int, int], None] | None = None) -> None:
    """Write the files below ``root`` into the zip ``out`` as ``top/...``, canonically."""
    names = files_under(root)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for index, rel in enumerate(names):
            if cancel is not None:
                cancel.check()
            source = root / rel
            info = zipfile.ZipInfo(f"{top}/{rel}", date_time=DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # unix: the mode below means what it says
            info.external_attr = (0o100000 | MODE) << 16
            info.file_size = source.stat().st_size  # decides zip64 the same way every time
            with open(source, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            if done is not None:
                done(index + 1, len(names))


def extract(zip_path: Path, dest: Path) -> str:
    """Extract a bundle into ``dest``; returns its top-level folder name.

    Raises :class:`ContainerError` naming the member when the zip is not one a bundle could be
    (unsafe or duplicate names, several top folders, compressed members) or when a member's
    bytes no longer match its CRC-32 or its header.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ContainerError(f"is not a readable zip file ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if not infos:
            raise ContainerError("is an empty zip, not an evidence bundle")
        tops = set()
        seen = set()
        for info in infos:
            name = info.filename
            parts = PurePosixPath(name).parts
            if (name.startswith("/") or "\\" in name or ".." in parts or len(parts) < 2
                    or name.endswith("/") or any(p in ("", ".") for p in name.split("/"))):
                raise ContainerError(f"holds the member {name!r}, which no bundle has "
                                     "(unsafe path or a folder entry)")
            if name in seen:
                raise ContainerError(f"holds the member {name} twice")
            seen.add(name)
            tops.add(parts[0])
            if info.compress_type != zipfile.ZIP_STORED:
                raise ContainerError(f"{_in_bag(name)}: the member is compressed; a bundle's "
                                     "members are stored (the zip was re-packed)")
        if len(tops) != 1:
            raise ContainerError(f"has {len(tops)} top-level folders; a bundle has one (its "
                                 "bag)")
        for info in infos:
            target = dest / info.filename
            name = _in_bag(info.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
            except zipfile.BadZipFile as exc:
                reason = ("its bytes no longer match the zip's CRC-32" if "CRC" in str(exc)
                          else f"its zip header does not hold: {exc}")
                raise ContainerError(f"{name}: changed ({reason})") from exc
            except (EOFError, ValueError, RuntimeError) as exc:
                raise ContainerError(f"{name}: its zip entry was changed ({exc})") from exc
            except OSError as exc:  # a header pointing nowhere, or our own disk
                raise ContainerError(f"{name}: cannot be read from the zip "
                                     f"({exc.strerror or exc})") from exc
        return tops.pop()


def _in_bag(member: str) -> str:
    """A member's name inside the bag (``data/report.html``), as every other message has it."""
    return member.split("/", 1)[1]


def first_difference(given: Path, canonical: Path) -> str | None:
    """Where ``given`` differs from ``canonical`` (the same bag written again), or None."""
    offset = 0
    with open(given, "rb") as a, open(canonical, "rb") as b:
        while True:
            chunk_a, chunk_b = a.read(_CHUNK), b.read(_CHUNK)
            if chunk_a != chunk_b:
                for index, (x, y) in enumerate(zip(chunk_a, chunk_b, strict=False)):
                    if x != y:
                        return _region(canonical, offset + index)
                if len(chunk_a) > len(chunk_b):
                    return f"the zip has extra bytes after byte {offset + len(chunk_b):,}"
                return f"the zip ends early, at byte {offset + len(chunk_a):,}"
            if not chunk_a:
                return None
            offset += len(chunk_a)


def _region(canonical: Path, offset: int) -> str:
    with zipfile.ZipFile(canonical) as zf:
        infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
        directory = zf.start_dir
    if offset >= directory:
        return f"byte {offset:,} differs, in the zip's central directory"
    owner = None
    for info in infos:
        if info.header_offset <= offset:
            owner = info
    if owner is None:
        return f"byte {offset:,} differs"
    header_end = owner.header_offset + 30 + len(owner.filename.encode()) + len(owner.extra)
    where = "zip header" if offset < header_end else "zip entry"
    return f"{_in_bag(owner.filename)}: byte {offset:,} differs, in the member's {where}"
