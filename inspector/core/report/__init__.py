"""The auditor's report: what an opt-out audit found, as a document someone else can check.

:func:`make_report` turns an audit of a database into a :class:`~.model.Report` (plain data,
built from masked data only: personal data appears as kinds and counts, never as values);
:func:`render_html` writes it as one self-contained HTML file; the Qt shell renders the same
model to PDF (``inspector.ui.report_pdf``). ``inspector report``, the app's File → Export
report… and the evidence bundle all go through here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from ..audit import AuditResult
from ..cancel import CancelToken
from ..errors import UsageError
from ..store import Store
from .build import make_report
from .chart import chart_svg
from .html import render_html
from .model import SECTIONS, Report

__all__ = ["SECTIONS", "Report", "chart_svg", "make_report", "render_html", "write_atomic",
           "write_html", "write_report"]


def write_report(store: Store, out: str | os.PathLike[str], *, audit: AuditResult,
                 tolerance_ms: int = 0, progress: Callable[[float], None] | None = None,
                 cancel: CancelToken | None = None) -> Report:
    """Write the report of ``audit`` as HTML to ``out`` (atomically) and return the model.

    A PDF needs Qt: build the model with :func:`make_report` and give it to
    ``inspector.ui.report_pdf.write_pdf``.
    """
    out = Path(out)
    if out.suffix.lower() != ".html":
        raise UsageError("the core writes HTML reports only; a PDF is made by the app or "
                         "`inspector report -o FILE.pdf`", path=str(out))
    cancel = cancel or CancelToken()
    cancel.check()
    report = make_report(store, audit=audit, tolerance_ms=tolerance_ms)
    if progress:
        progress(0.5)
    cancel.check()
    write_html(report, out)
    if progress:
        progress(1.0)
    return report


def write_html(report: Report, out: str | os.PathLike[str]) -> None:
    write_atomic(Path(out), render_html(report).encode("utf-8"))


def write_atomic(out: Path, data: bytes | Callable[[Path], None]) -> None:
    """Write ``out`` whole or not at all: a temporary file beside it, then a rename.

    ``data`` is the bytes, or a function that writes the temporary file it is given.
    """
    if not out.parent.is_dir():
        raise UsageError("its folder does not exist", path=str(out))
    temporary = out.parent / f".{out.name}.{secrets.token_hex(6)}.tmp"
    try:
        if isinstance(data, bytes):
            with open(temporary, "xb") as stream:  # "x": never another file of that name
                stream.write(data)
        else:
            data(temporary)
        os.replace(temporary, out)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
