"""A whole JSON document read twice is parsed once while kept (jsondoc.kept_documents)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from inspector.core.formats import jsondoc
from inspector.core.importer import import_paths
from inspector.core.redact import redact
from inspector.core.sources import Source
from inspector.core.store import Store

from .test_audit_support import opt_out
from .test_redact_support import EMAIL, imported, session_with_opt_out, write_archive


def test_a_kept_document_is_the_same_object_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(orjson.dumps([{"type": 4, "data": {"href": "https://a.example/"}}]))
    outside = jsondoc.load(Source(str(path), path=path))
    with jsondoc.kept_documents() as kept:
        first = jsondoc.load(Source(str(path), path=path))
        assert jsondoc.is_kept(Source(str(path), path=path))
        assert jsondoc.load(Source(str(path), path=path)) is first
        assert first == outside and first is not outside
        kept.close()  # dropped, and nothing more is kept
        again = jsondoc.load(Source(str(path), path=path))
        assert again == first and again is not first
        assert not jsondoc.is_kept(Source(str(path), path=path))
    assert jsondoc.load(Source(str(path), path=path)) is not first


def test_a_changed_size_is_another_document(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b"[1]")
    with jsondoc.kept_documents():
        assert jsondoc.load(Source(str(path), path=path)) == [1]
        path.write_bytes(b"[1, 2]")
        assert jsondoc.load(Source(str(path), path=path)) == [1, 2]


def test_bad_json_is_still_reported_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b'[{"type": 4,\n "data": }]')
    with jsondoc.kept_documents(), pytest.raises(Exception, match="line 2"):
        jsondoc.load(Source(str(path), path=path))


def test_a_redaction_parses_its_source_once_and_the_copy_once(tmp_path: Path,
                                                             monkeypatch) -> None:
    parsed: Counter[str] = Counter()
    parse = jsondoc._parse

    def counting(source: Source):
        parsed[Path(source.name).parent.parent.name] += 1
        return parse(source)

    monkeypatch.setattr(jsondoc, "_parse", counting)
    events, at = session_with_opt_out()
    source = write_archive(tmp_path / "src", [("s1", events, {"subject": "u-1"})],
                           consent=[opt_out("u-1", at)], encodings={"s1": ".json"})
    out = tmp_path / "out"
    redact(source, out, mask_pii=True)
    # the import and the writing share one parse; the check reads the copy's own bytes
    assert parsed == {"src": 1, "out": 1}
    assert EMAIL not in (out / "sessions" / "s1.json").read_text()
    copy = imported(tmp_path, out)
    assert 0 < len(copy["events"]["s1"]) < len(events)
    with Store(tmp_path / "again.duckdb") as store:  # and the source is as it was
        assert import_paths(store, [source]).archives[0].events == len(events)
