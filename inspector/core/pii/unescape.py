"""Decoded views of a string that remember where each character came from.

Recorded text is often escaped: a query string carries ``john%40example.com``, a request body
that was JSON-encoded twice carries ``john\\u0040example.com``, an attribute carries
``john&#64;example.com``. Detection has to see the decoded text, but masking has to replace the
escaped form in the original string. A :class:`View` is the decoded text plus a map back to the
original, so a span found in the view becomes a span of the original.

The map is kept sparse: one segment per decoded escape, and a character between escapes sits at
a fixed offset from the segment before it. Decoding repeats (``%2540`` -> ``%40`` -> ``@``) and
each pass adds a layer; a span is mapped back through the layers in reverse.
"""

from __future__ import annotations

import html.entities
import re
from bisect import bisect_right
from dataclasses import dataclass, field

# Characters that can start an escape; a string without any of them is its own decoded view.
_TRIGGERS = ("%", "\\", "&")

# The leading character class lets the regex engine skip straight to candidates.
_ESCAPE = re.compile(
    r"""
    [%\\&]
    (?:
      (?<=%)(?P<pct>[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*)
    | (?<=\\)u(?P<hi>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<lo>[dD][c-fC-F][0-9a-fA-F]{2})
    | (?<=\\)u(?P<u>[0-9a-fA-F]{4})
    | (?<=\\)(?P<js>[\\"/'bfnrt])
    | (?<=&)\#(?P<dec>[0-9]{1,7});?
    | (?<=&)\#[xX](?P<hex>[0-9a-fA-F]{1,6});?
    | (?<=&)(?P<name>[A-Za-z][A-Za-z0-9]{1,31};)
    )
    """,
    re.VERBOSE,
)
_JSON_SIMPLE = {"\\": "\\", '"': '"', "/": "/", "'": "'", "b": "\b", "f": "\f", "n": "\n",
                "r": "\r", "t": "\t"}
# Nested escaping deeper than this is not something a recorder produces.
_MAX_PASSES = 4


@dataclass(slots=True)
class _Layer:
    """One decoding pass: for each decoded escape, its span in the output and in the input."""

    out_starts: list[int] = field(default_factory=list)
    out_ends: list[int] = field(default_factory=list)
    in_starts: list[int] = field(default_factory=list)
    in_ends: list[int] = field(default_factory=list)

    def char_span(self, i: int) -> tuple[int, int]:
        """The input span that produced output character ``i``."""
        k = bisect_right(self.out_starts, i) - 1
        if k < 0:
            return i, i + 1
        if i < self.out_ends[k]:
            return self.in_starts[k], self.in_ends[k]
        j = self.in_ends[k] + (i - self.out_ends[k])
        return j, j + 1


@dataclass(slots=True)
class View:
    """A decoded string with the layers that map it back to the string it was decoded from."""

    text: str
    layers: tuple[_Layer, ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` (non-empty) to the span of the source it was decoded from."""
        for layer in reversed(self.layers):
            start = layer.char_span(start)[0]
            end = layer.char_span(end - 1)[1]
        return start, end


def decoded_view(text: str) -> View:
    """Decode percent-, JSON- and HTML-escapes in ``text`` until nothing changes."""
    if not any(t in text for t in _TRIGGERS):
        return View(text)
    layers: list[_Layer] = []
    current = text
    for _ in range(_MAX_PASSES):
        decoded, layer = _decode_once(current)
        if layer is None:
            break
        layers.append(layer)
        current = decoded
        if not any(t in current for t in _TRIGGERS):
            break
    return View(current, tuple(layers))


def _decode_once(text: str) -> tuple[str, _Layer | None]:
    pieces: list[str] = []
    layer = _Layer()
    last = 0
    out_len = 0
    for m in _ESCAPE.finditer(text):
        start = m.start()
        if start > last:
            pieces.append(text[last:start])
            out_len += start - last
        last = m.end()
        if m.group("pct") is not None:
            for chunk, in_start, in_end, decoded in _percent_chunks(m.group(), start):
                if decoded:
                    _add(layer, out_len, len(chunk), in_start, in_end)
                pieces.append(chunk)
                out_len += len(chunk)
            continue
        value = _decode_escape(m)
        if value is None:
            value = m.group()
        else:
            _add(layer, out_len, len(value), start, m.end())
        pieces.append(value)
        out_len += len(value)
    if not layer.out_starts:
        return text, None
    pieces.append(text[last:])
    return "".join(pieces), layer


def _add(layer: _Layer, out_start: int, out_len: int, in_start: int, in_end: int) -> None:
    layer.out_starts.append(out_start)
    layer.out_ends.append(out_start + out_len)
    layer.in_starts.append(in_start)
    layer.in_ends.append(in_end)


def _decode_escape(m: re.Match[str]) -> str | None:
    """The text one non-percent escape stands for, or None to keep it as it is."""
    if (hi := m.group("hi")) is not None:
        code = 0x10000 + ((int(hi, 16) - 0xD800) << 10) + (int(m.group("lo"), 16) - 0xDC00)
        return chr(code)
    if (u := m.group("u")) is not None:
        code = int(u, 16)
        return None if 0xD800 <= code <= 0xDFFF else chr(code)
    if (js := m.group("js")) is not None:
        return _JSON_SIMPLE[js]
    if (name := m.group("name")) is not None:
        return html.entities.html5.get(name)
    digits = m.group("dec")
    code = int(digits) if digits is not None else int(m.group("hex"), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _percent_chunks(run: str, offset: int):
    """Split a run of ``%XX`` escapes into UTF-8 characters.

    Yields ``(text, in_start, in_end, decoded)``; bytes that are not valid UTF-8 stay as their
    ``%XX`` text (``decoded`` false) so nothing is invented.
    """
    data = bytes.fromhex(run.replace("%", ""))
    i = 0
    while i < len(data):
        lead = data[i]
        size = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else (
            4 if lead >> 3 == 30 else 0)
        char = None
        if size:
            try:
                char = data[i:i + size].decode("utf-8")
            except UnicodeDecodeError:
                char = None
        if char is None:
            yield run[3 * i:3 * i + 3], offset + 3 * i, offset + 3 * i + 3, False
            i += 1
            continue
        yield char, offset + 3 * i, offset + 3 * (i + size), True
        i += size
