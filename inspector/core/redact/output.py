"""Where the copy goes: refusing unsafe destinations, staging, and the final atomic rename.

The copy is written under a hidden staging folder in OUT's own folder (so the final step is a
rename on one file system) and moved to OUT only once it has passed its check. Whatever fails
before, the staging folder is removed and OUT is as it was: nothing is ever left half written
at OUT. The input is never written over, and ``--force`` replaces only what a redaction could
have made: a file, or a folder holding a replay archive (``manifest.json``), never any other
folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..formats.replay_archive import MANIFEST

SIDECAR_SUFFIX = ".redaction.json"


@dataclass
class Target:
    source: Path
    out: Path
    #: The redaction record beside a single-file copy (None for archives: it is inside).
    sidecar: Path | None


def check(source: Path, out: Path, *, folder: bool, single_file: bool, force: bool) -> Target:
    """Refuse an OUT that is the input, inside it, holding it, or there without ``force``."""
    source = source.resolve()
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError("the folder to write into does not exist", path=str(out),
                         hint="create it first, or choose another OUT")
    out = parent.resolve() / out.name
    sidecar = out.with_name(out.name + SIDECAR_SUFFIX) if single_file else None
    for path in (out, sidecar):
        if path is None:
            continue
        if path == source or (folder and source in path.parents):
            raise UsageError("is the input or inside it; the input is never written over",
                             path=str(path), hint="choose another OUT")
        if path.is_dir() and path in source.parents:
            raise UsageError("holds the input; replacing it would delete the input",
                             path=str(path), hint="choose another OUT")
        if os.path.lexists(path):
            if not force:
                raise UsageError("already exists", path=str(path),
                                 hint="choose another OUT, or add --force to replace it")
            if path.is_dir() and not path.is_symlink() and not (path / MANIFEST).is_file():
                raise UsageError("is a folder that is not a replay archive; --force replaces "
                                 "only a previous copy", path=str(path),
                                 hint="choose another OUT")
    return Target(source, out, sidecar)


class Staging:
    """A hidden folder beside OUT holding the copy until it is put in place."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.root = Path(tempfile.mkdtemp(prefix=f".{target.out.name}.redacting-",
                                          dir=target.out.parent))
        self.copy = self.root / "copy" / target.out.name
        self.copy.parent.mkdir()
        self.sidecar = self.copy.with_name(self.copy.name + SIDECAR_SUFFIX) \
            if target.sidecar is not None else None

    def install(self) -> None:
        """Move the copy (and its record) to OUT; on failure OUT is left as it was."""
        pairs = [(self.copy, self.target.out)]
        if self.sidecar is not None and self.target.sidecar is not None:
            pairs.append((self.sidecar, self.target.sidecar))
        aside = self.root / "replaced"
        aside.mkdir()
        moved_aside: list[tuple[Path, Path]] = []
        installed: list[Path] = []
        try:
            for index, (_, final) in enumerate(pairs):
                if os.path.lexists(final):
                    kept = aside / str(index)
                    os.replace(final, kept)
                    moved_aside.append((kept, final))
            for staged, final in pairs:
                os.replace(staged, final)
                installed.append(final)
        except BaseException:
            for final in installed:
                _remove(final)
            for kept, final in moved_aside:
                with contextlib.suppress(OSError):
                    os.replace(kept, final)
            raise
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
