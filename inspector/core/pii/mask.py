"""Masking personal data in text, URLs and JSON, and counting what was masked.

Each piece of personal data is replaced by a token naming its kind (``[EMAIL]``, ``[CARD]``...);
tokens do not keep the original length, so a masked recording cannot leak it. The counts say
what was masked without saying what it was.

URLs follow a stricter rule than text, because a query string is where forms put what a person
typed (``?username=…&password=…`` from a GET form): every query and fragment parameter value is
replaced by ``[REDACTED]`` unless its key is one of a few well-known harmless ones (paging,
language, sorting, ``utm_*`` campaign tags) and the value holds no detectable personal data.
Credentials in the authority (``user:pass@host``) are redacted, and personal data in the path
and fragment route is masked like text.

In JSON, every string is masked like text (a number under a key such as ``"phone"`` is checked
too); values under keys named for a password or user name are masked whole; a string that is
itself JSON or a form-encoded body is masked inside.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import orjson

from inspector.core.pii.detect import find_pii
from inspector.core.pii.names import name_kind, secret_key_kind

TOKENS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "national_id": "[NATIONAL_ID]",
    "password": "[PASSWORD]",
    "username": "[USERNAME]",
}
REDACTED = "[REDACTED]"
# What mask_query shows in place of a query value.
HIDDEN = "…"

# Values that are already masked (by us or by the recorder) are neither counted nor re-masked.
_ALREADY_MASKED = re.compile(
    r"[*•●]+|" + "|".join(re.escape(t) for t in (*TOKENS.values(), REDACTED, HIDDEN))
)
_NOT_A_SECRET = frozenset({"", "true", "false", "null", "none", "undefined", "yes", "no", "on",
                           "off", "0", "1"})

_HARMLESS_KEYS = frozenset({
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_id", "lang", "language",
    "locale", "hl", "page", "per_page", "page_size", "limit", "offset", "sort", "order", "dir",
    "tab", "view", "theme", "mode", "format",
})

_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:)?(?://(?P<authority>[^/?#]*))?(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)
_FORM_BODY = re.compile(r"[\w.\-\[\]%$]+=[^&\s]*(?:&[\w.\-\[\]%$]+=[^&\s]*)*")
# Numbers shorter than this cannot hold any kind we detect.
_SMALLEST_NUMBER = 10**6


def mask_text(text: str, *, context: str = "") -> tuple[str, Counter[str]]:
    """``text`` with each match of :func:`find_pii` replaced by its kind's token, and counts."""
    counts: Counter[str] = Counter()
    matches = find_pii(text, context=context)
    if not matches:
        return text, counts
    pieces: list[str] = []
    last = 0
    for match in matches:
        pieces += (text[last:match.start], TOKENS[match.kind])
        counts[match.kind] += 1
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces), counts


def mask_url(url: str) -> tuple[str, Counter[str]]:
    """``url`` safe to keep in a redacted recording (see module doc), and what was masked.

    Counts are by kind: the kind a key names (``?creditcard=`` counts a card, ``?username=`` a
    username) or else the kinds found in the value; values masked only because their key is not
    known to be harmless are not counted.
    """
    counts: Counter[str] = Counter()

    def pairs(text: str) -> str:
        return _mask_url_pairs(text, counts)

    masked = _rebuild(url, counts, pairs, userinfo=REDACTED)
    return masked, counts


def mask_query(url: str) -> str:
    """``url`` for display: every query and fragment parameter value shown as ``…``.

    Keys stay readable (``/search?q=…&page=…``); credentials in the authority become ``…`` and
    personal data in the path is masked with tokens, so the result is safe to show in a report.
    """
    return _rebuild(url, Counter(), _hide_pairs, userinfo=HIDDEN)


def scan_json(value: Any) -> Counter[str]:
    """Count the personal data in a JSON value (as parsed by ``orjson.loads``) by kind."""
    counts: Counter[str] = Counter()
    _walk(value, "", counts, mask=False)
    return counts


def mask_json(value: Any) -> tuple[Any, Counter[str]]:
    """A copy of a JSON value with personal data masked in every string, and counts by kind.

    Dict keys holding personal data are masked too (numbered if two keys collide). A number
    found to be personal data becomes its token, a string.
    """
    counts: Counter[str] = Counter()
    return _walk(value, "", counts, mask=True), counts


# --- URLs ---------------------------------------------------------------------------------

def _rebuild(url: str, counts: Counter[str], pairs: Callable[[str], str], *,
             userinfo: str) -> str:
    parts = _URL.fullmatch(url)
    assert parts is not None  # every part is optional
    scheme, authority, path, query, fragment = parts.group(
        "scheme", "authority", "path", "query", "fragment")
    out = [scheme or ""]
    if authority is not None:
        credentials, at, host = authority.rpartition("@")
        if at and credentials and not _ALREADY_MASKED.fullmatch(credentials):
            user, colon, _password = credentials.partition(":")
            if user:
                counts["username"] += 1
            if colon:
                counts["password"] += 1
            credentials = userinfo
        out.append("//" + credentials + at + host)
    out.append(_count(mask_text(path), counts))
    if query is not None:
        out.append("?" + pairs(query))
    if fragment is not None:
        out.append("#" + _mask_fragment(fragment, counts, pairs))
    return "".join(out)


def _mask_fragment(fragment: str, counts: Counter[str], pairs: Callable[[str], str]) -> str:
    # "#/route?a=1" (hash routers), "#access_token=…&state=…" (OAuth) or "#section".
    route, question, params = fragment.partition("?")
    if question:
        return _count(mask_text(route), counts) + "?" + pairs(params)
    if "=" in fragment:
        return pairs(fragment)
    return _count(mask_text(fragment), counts)


def _mask_url_pairs(query: str, counts: Counter[str]) -> str:
    out = []
    for part in query.split("&"):
        key, equals, value = part.partition("=")
        masked_key = _count(mask_text(key), counts)
        if not equals:
            out.append(masked_key)
            continue
        if not value or _ALREADY_MASKED.fullmatch(value):
            out.append(masked_key + "=" + value)
            continue
        readable_key = unquote_plus(key)
        key_kind = name_kind(readable_key, loose=True)
        found = find_pii(value, context=readable_key)
        if key_kind or found or readable_key.lower() not in _HARMLESS_KEYS:
            counts.update([key_kind] if key_kind else [m.kind for m in found])
            value = REDACTED
        out.append(masked_key + "=" + value)
    return "&".join(out)


def _hide_pairs(query: str) -> str:
    out = []
    for part in query.split("&"):
        key, equals, value = part.partition("=")
        if not equals:
            out.append(HIDDEN if part else part)
        else:
            out.append(mask_text(key)[0] + "=" + (HIDDEN if value else ""))
    return "&".join(out)


def _count(masked: tuple[str, Counter[str]], counts: Counter[str]) -> str:
    counts.update(masked[1])
    return masked[0]


# --- JSON ---------------------------------------------------------------------------------

def _walk(value: Any, key: str, counts: Counter[str], *, mask: bool) -> Any:
    if isinstance(value, dict):
        return _dict(value, counts, mask=mask)
    if isinstance(value, list):
        if not mask:
            for item in value:
                _walk(item, key, counts, mask=False)
            return value
        return [_walk(item, key, counts, mask=True) for item in value]
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value
    if key and (kind := secret_key_kind(key)):
        text = str(value)
        if _ALREADY_MASKED.fullmatch(text) or text.strip().lower() in _NOT_A_SECRET:
            return value
        counts[kind] += 1
        return TOKENS[kind]
    if isinstance(value, str):
        return _string(value, key, counts, mask=mask)
    if abs(value) < _SMALLEST_NUMBER:
        return value
    text = str(value)
    masked = _count(mask_text(text, context=key), counts)
    return masked if mask and masked != text else value


def _dict(value: dict, counts: Counter[str], *, mask: bool) -> Any:
    out: dict[Any, Any] = {}
    for key, item in value.items():
        label = key if isinstance(key, str) else ""
        new_key = _count(mask_text(key), counts) if label else key
        masked_item = _walk(item, label, counts, mask=mask)
        if mask:
            out[unique_key(out, new_key)] = masked_item
    return out if mask else value


def unique_key(taken: dict, key: Any) -> Any:
    """``key``, or ``"key 2"``, ``"key 3"``... when keys masked alike (two addresses that both
    became ``[EMAIL]``) would otherwise overwrite each other's values."""
    unique, n = key, 1
    while unique in taken:
        n += 1
        unique = f"{key} {n}"
    return unique


def embedded_json(text: str) -> dict | list | None:
    """The object or array a string holds as JSON text (a console argument, a request body),
    or None: such a value is masked inside, as JSON, and written back as JSON."""
    stripped = text.strip()
    if stripped[:1] not in ("{", "[") or stripped[-1:] not in ("}", "]"):
        return None
    try:
        inner = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    return inner if isinstance(inner, dict | list) else None


def _string(text: str, key: str, counts: Counter[str], *, mask: bool) -> str:
    inner = embedded_json(text)
    if inner is not None:
        found: Counter[str] = Counter()
        masked_inner = _walk(inner, key, found, mask=mask)
        counts.update(found)
        return orjson.dumps(masked_inner).decode() if mask and found else text
    if "=" in text and _FORM_BODY.fullmatch(text):
        return _mask_body_pairs(text, counts)
    return _count(mask_text(text, context=key), counts)


def _mask_body_pairs(body: str, counts: Counter[str]) -> str:
    out = []
    for part in body.split("&"):
        key, _equals, value = part.partition("=")
        readable_key = unquote_plus(key)
        kind = secret_key_kind(readable_key)
        if (kind and not _ALREADY_MASKED.fullmatch(value)
                and unquote_plus(value).strip().lower() not in _NOT_A_SECRET):
            counts[kind] += 1
            value = TOKENS[kind]
        else:
            value = _count(mask_text(value, context=readable_key), counts)
        out.append(_count(mask_text(key), counts) + "=" + value)
    return "&".join(out)
