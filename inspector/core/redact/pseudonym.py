"""Stable pseudonyms for the keys that name people, so a redacted copy still joins.

``--pseudonymize-key FILE`` replaces every subject, device and alias key, and every e-mail
address, by HMAC-SHA256(key, normalised value) cut to 16 hex digits. The same value gets the
same pseudonym everywhere in the copy (manifest, consent ledger, identity links, PostHog person,
event content), and in every copy made with the same key, so sessions, ledger records and
analyses still join; without the key a pseudonym cannot be turned back or recomputed.

Normalisation: Unicode NFC and surrounding white space removed; an e-mail address is also
case-folded (``Alice@Example.com`` and ``alice@example.com`` are one person). Keys are otherwise
compared exactly, as the audit compares them.

The key itself never appears in the copy: the redaction record names it by a key id (an HMAC of
a fixed label), which tells two keys apart without revealing either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from .. import pii
from ..errors import UsageError

#: Fewer bytes than this cannot be a secret worth the name.
MIN_KEY_BYTES = 16
DIGITS = 16
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_KEY_ID_LABEL = b"session-replay-inspector redaction key id"
# A key inside a longer text counts only as a whole token: not glued to letters or digits.
_KEY_EDGE = r"[A-Za-z0-9_]"
#: Shorter keys are replaced only where they are a whole value, never inside a text.
MIN_KEY_IN_TEXT = 6


class Pseudonymizer:
    def __init__(self, key: bytes, *, path: str | None = None) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise UsageError(f"the pseudonymisation key has {len(key)} bytes; it needs at least "
                             f"{MIN_KEY_BYTES}", path=path,
                             hint="make one with: head -c 32 /dev/urandom | base64 > key.txt")
        self._key = key
        self._cache: dict[str, str] = {}
        self._keys: set[str] = set()
        self._key_pattern: re.Pattern[str] | None = None
        #: Distinct keys and e-mail addresses pseudonymised, by kind.
        self.keys_seen: set[str] = set()
        self.emails_seen: set[str] = set()

    @classmethod
    def from_file(cls, path: str | Path) -> Pseudonymizer:
        file = Path(path)
        try:
            key = file.read_bytes().strip()
        except OSError as exc:
            raise UsageError(f"cannot be read ({exc.strerror or exc})", path=str(file),
                             hint="check the --pseudonymize-key path") from exc
        return cls(key, path=str(file))

    @property
    def key_id(self) -> str:
        return hmac.new(self._key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:DIGITS]

    def secret_forms(self) -> list[bytes]:
        """The key as it could appear in a file, for the check that it never does."""
        forms = [self._key, self._key.hex().encode()]
        return [form for form in forms if len(form) >= MIN_KEY_BYTES]

    def __call__(self, value: str) -> str:
        found = self._cache.get(value)
        if found is None:
            normal = unicodedata.normalize("NFC", value).strip()
            if _EMAIL.fullmatch(normal):
                normal = normal.casefold()
            found = hmac.new(self._key, normal.encode(), hashlib.sha256).hexdigest()[:DIGITS]
            self._cache[value] = found
        return found

    def key(self, value: str | None) -> str | None:
        """The pseudonym of a subject, device or alias key (None stays None)."""
        if value is None:
            return None
        (self.emails_seen if _EMAIL.fullmatch(value.strip()) else self.keys_seen).add(value)
        return self(value)

    def know_keys(self, keys: Iterable[str | None]) -> None:
        """Keys to replace where they appear inside event content."""
        fresh = {k for k in keys if k} - self._keys
        if fresh:
            self._keys |= fresh
            long_keys = sorted((k for k in self._keys if len(k) >= MIN_KEY_IN_TEXT),
                               key=len, reverse=True)
            self._key_pattern = re.compile(
                f"(?<!{_KEY_EDGE})(?:{'|'.join(map(re.escape, long_keys))})(?!{_KEY_EDGE})"
            ) if long_keys else None

    @property
    def known_keys(self) -> frozenset[str]:
        return frozenset(self._keys)

    def text(self, text: str, context: str = "") -> str:
        """``text`` with known keys and every e-mail address replaced by their pseudonyms."""
        if text in self._keys:
            return self.key(text) or text
        if self._key_pattern is not None and len(text) >= MIN_KEY_IN_TEXT:
            text = self._key_pattern.sub(lambda m: self.key(m.group()) or "", text)
        if "@" not in text and "%40" not in text.upper() and "\\u0040" not in text \
                and "&#" not in text:
            return text
        matches = [m for m in pii.find_pii(text, context=context) if m.kind == "email"]
        if not matches:
            return text
        pieces, last = [], 0
        for match in matches:
            self.emails_seen.add(match.value)
            pieces += (text[last:match.start], self(match.value))
            last = match.end
        pieces.append(text[last:])
        return "".join(pieces)
