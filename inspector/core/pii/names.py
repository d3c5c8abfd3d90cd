"""What a field's or a key's name says about the value it holds.

A password cannot be recognised by its text, only by where it was typed: an input with
``type="password"``, an ``autocomplete`` of ``current-password``, a query parameter named
``pwd``. This module reads those names; :mod:`.detect` reads the values.

Names are split into lower-case words at punctuation and camelCase (``ccNumber`` -> ``cc``,
``number``), so ``user_password``, ``userPassword`` and ``USER-PASSWORD`` read alike, while a
name merely containing a short keyword (``passenger``, ``telemetry``) does not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# Kinds a name can imply, checked in this order; the first that matches wins. A name says so
# by one of its words, or (for names run together, "cardnumber") by containing a part; parts
# are long enough not to hide inside ordinary words ("classname" holds "ssn").
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passcode",
                             "pword", "otp"})
_PASSWORD_PARTS = ("password", "passwd", "passphrase", "passwort", "kennwort", "motdepasse")
_CARD_WORDS = frozenset({"cvv", "cvc", "csc", "cvv2", "cvc2", "ccn", "ccnum", "ccnumber",
                         "cardnumber", "creditcard", "cardnum"})
_CARD_PARTS = ("creditcard", "cardnumber", "cardnum", "ccnumber", "ccnum", "debitcard",
               "cardverification", "cardsecurity", "securitycode")
# ``cc`` alone is "carbon copy" in a mail form; as a field name it needs a card word after it.
_CC_FOLLOWERS = frozenset({"number", "num", "no", "exp", "expiry", "expiration", "csc", "cvv",
                           "cvc", "name", "type", "month", "year"})
_NATIONAL_ID_WORDS = frozenset({"ssn", "nino", "bsn", "nir", "dni", "nie", "idnr"})
_NATIONAL_ID_PARTS = ("socialsecurity", "nationalid", "nationalinsurance", "burgerservicenummer",
                      "steuerid", "steueridentifikation", "codicefiscale", "passportnumber")
_EMAIL_WORDS = frozenset({"email", "mail", "courriel"})
_EMAIL_PARTS = ("email",)
# "mobile" and "cell" alone name menus and table cells too often; "microphone" is no phone.
_PHONE_WORDS = frozenset({"phone", "telephone", "cellphone", "mobilephone", "tel", "fax",
                          "msisdn"})
_PHONE_PARTS = ("phonenumber", "phoneno", "telefon", "mobilenumber", "mobileno", "cellnumber")
_USERNAME_WORDS = frozenset({"login", "uname", "user"})
_USERNAME_PARTS = ("username", "loginname", "userlogin")

# Input types whose value is a choice, not something typed.
_NON_TEXT_TYPES = frozenset({"checkbox", "radio", "submit", "button", "reset", "image", "range",
                             "color", "file"})


def words(name: str) -> list[str]:
    """``"ccNumber"`` -> ``["cc", "number"]``; ``"USER_PASSWORD"`` -> ``["user", "password"]``."""
    return [w.lower() for w in _WORD.findall(name)]


def name_kind(name: str, *, loose: bool = False) -> str | None:
    """The kind of value a field or key called ``name`` holds, if its name says so.

    Kinds: ``password``, ``card``, ``national_id``, ``email``, ``phone``, and with ``loose``
    (query-string keys, where short names are the norm) also ``username`` and bare ``cc``.
    """
    parts = words(name)
    if not parts:
        return None
    joined = "".join(parts)
    word_set = set(parts)
    if word_set & _PASSWORD_WORDS or any(p in joined for p in _PASSWORD_PARTS):
        return "password"
    if (word_set & _CARD_WORDS or any(p in joined for p in _CARD_PARTS)
            or _cc_pair(parts) or (loose and "cc" in word_set)):
        return "card"
    if word_set & _NATIONAL_ID_WORDS or any(p in joined for p in _NATIONAL_ID_PARTS):
        return "national_id"
    if word_set & _EMAIL_WORDS or any(p in joined for p in _EMAIL_PARTS):
        return "email"
    if word_set & _PHONE_WORDS or any(p in joined for p in _PHONE_PARTS):
        return "phone"
    if loose and (word_set & _USERNAME_WORDS or any(p in joined for p in _USERNAME_PARTS)):
        return "username"
    return None


def _cc_pair(parts: list[str]) -> bool:
    return any(a == "cc" and b in _CC_FOLLOWERS for a, b in pairwise(parts))


def sensitive_field(attributes: Mapping[str, object]) -> str | None:
    """The kind of personal data an input holds according to its attributes, or None.

    Returns ``password``, ``card``, ``national_id``, ``email``, ``phone`` or ``hidden``. The most
    specific signal wins: ``type="password"``, then ``autocomplete``, then a ``name`` or ``id``
    that names the field, then ``type`` email/tel/hidden. Inputs whose value is a choice
    (checkbox, radio, buttons) are never sensitive by name.
    """
    kind_of_input = str(attributes.get("type") or "").strip().lower()
    if kind_of_input == "password":
        return "password"
    if kind := _autocomplete_kind(str(attributes.get("autocomplete") or "")):
        return kind
    if kind_of_input in _NON_TEXT_TYPES:
        return None
    for attribute in ("name", "id"):
        value = attributes.get(attribute)
        if value and (kind := name_kind(str(value))):
            return kind
    return {"email": "email", "tel": "phone", "hidden": "hidden"}.get(kind_of_input)


def _autocomplete_kind(value: str) -> str | None:
    # The attribute is a list of tokens: "section-billing shipping cc-number".
    for token in value.lower().split():
        if token.startswith("cc-"):
            return "card"
        if token in ("current-password", "new-password", "one-time-code"):
            return "password"
        if token == "email":
            return "email"
        if token == "tel" or token.startswith("tel-"):
            return "phone"
    return None


# JSON keys and form fields whose whole value is masked, whatever it looks like.
_USERNAME_KEYS = frozenset({"username", "loginname", "uname", "userlogin"})


def secret_key_kind(key: str) -> str | None:
    """``password`` or ``username`` when a JSON key or form field is named for one, else None.

    Stricter than :func:`name_kind` with ``loose``: event payloads are full of keys such as
    ``user_id`` and ``token`` that hold identifiers rather than what a person typed.
    """
    if name_kind(key) == "password":
        return "password"
    if "".join(words(key)) in _USERNAME_KEYS:
        return "username"
    return None
