"""Helpers for core tests: real files written to tmp_path, database snapshots."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import orjson

from inspector.core.store import Store

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES = SHARED / "fixtures"
TABLES = ("archives", "sessions", "events", "consent", "identities", "import_problems")


def write_ndjson(path: Path, events: list, *, compress: bool = False) -> Path:
    body = b"".join(orjson.dumps(e) + b"\n" for e in events)
    path.write_bytes(gzip.compress(body, mtime=0) if compress else body)
    return path


def meta(ts: int, href: str = "https://shop.example/") -> dict:
    return {"type": 4, "data": {"href": href, "width": 1280, "height": 800}, "timestamp": ts}


def move(ts: int, i: int = 0) -> dict:
    return {"type": 3, "data": {"source": 1, "positions": [{"x": i, "y": i, "id": 1,
                                                              "timeOffset": -10}]},
            "timestamp": ts}


def counts(db: Path) -> dict[str, int]:
    with Store(db) as store:
        return {table: store.count(table) for table in TABLES}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
