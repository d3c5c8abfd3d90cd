"""Personal data: finding it in recorded text, knowing which fields hold it, and masking it.

The audit counts what was captured after an opt-out (kinds and counts, never values), the
redaction masks it, the app highlights it and the report names it. They all go through here:

- :func:`find_pii` finds e-mail addresses, phone numbers, card numbers, IBANs and national
  identity numbers in text, also when URL-, JSON- or HTML-escaped (:mod:`.detect`,
  :mod:`.unescape`);
- :func:`sensitive_field` says what an input holds from its attributes, which is the only way to
  know a password (:mod:`.names`);
- :func:`mask_text`, :func:`mask_url`, :func:`mask_query`, :func:`mask_json` and
  :func:`scan_json` mask or count it (:mod:`.mask`).
"""

from inspector.core.pii.detect import DEFAULT_REGIONS, KINDS, Match, find_pii
from inspector.core.pii.mask import (
    HIDDEN,
    REDACTED,
    TOKENS,
    embedded_json,
    mask_json,
    mask_query,
    mask_text,
    mask_url,
    scan_json,
    unique_key,
)
from inspector.core.pii.names import name_kind, secret_key_kind, sensitive_field

__all__ = [
    "DEFAULT_REGIONS",
    "HIDDEN",
    "KINDS",
    "REDACTED",
    "TOKENS",
    "Match",
    "embedded_json",
    "find_pii",
    "mask_json",
    "mask_query",
    "mask_text",
    "mask_url",
    "name_kind",
    "scan_json",
    "secret_key_kind",
    "sensitive_field",
    "unique_key",
]
