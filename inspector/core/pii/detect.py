"""Finding personal data in free text: e-mail addresses, phone numbers, card numbers, IBANs and
national identity numbers.

Recordings are full of numbers that are not personal data (epoch timestamps, node ids, prices,
coordinates, version strings), so a digit run only counts when it passes a check a random number
rarely passes: a Luhn check digit and a card issuer prefix, an IBAN's mod-97, a national number's
check digit or strict layout, or libphonenumber's validity rules for a phone number.

Phone numbers and the weaker national numbers need more than that:

- A phone number must be international (``+44 20 7946 0958``, ``0044 …``) or written with
  separators (``(212) 555-1234``, ``020 7946 0958``); in countries that dial a ``0`` trunk
  prefix (GB, DE, FR) a national number must start with it. A bare digit run
  (``2125551234``) counts only next to a word such as "phone" or "tel".
- US SSNs count when written ``123-45-6789``; UK National Insurance numbers, Spanish DNI/NIE,
  Italian codici fiscali and spaced French NIRs count anywhere (their layout or check letter is
  strict). Nine-, eleven- and fifteen-digit runs are checked as SSN, Dutch BSN, German
  Steuer-IdNr or compact French NIR only next to a word naming such a number ("ssn", "bsn",
  "Steuer-ID", "NIR"...): their check digits alone would accept one random number in ten.

Detection runs on the decoded text (see :mod:`.unescape`), and every match is reported with its
span in the original string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from stdnum import iban, luhn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

from inspector.core.pii.unescape import decoded_view

KINDS = ("email", "phone", "card", "iban", "national_id")
# Regions whose national-format numbers are recognised; international numbers need none.
DEFAULT_REGIONS = ("US", "GB", "DE", "FR")


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of personal data: ``text[start:end]`` of the scanned string.

    ``value`` is the decoded form (``john@example.com`` for ``john%40example.com``); it is for
    masking and highlighting and must not be written to reports.
    """

    kind: str
    start: int
    end: int
    value: str


# Shortest text that can hold any kind: "a@b.co".
_MIN_LENGTH = 6
# A form-encoded "+" stands for a space; a "+" before a number after a space is a dialling plus.
_PLUS_BETWEEN = re.compile(r"[^\s+]\+[^\s+]")
# Six digits close together, as every digit-based kind has: "4111 1111", "(212) 555-1",
# "AB 12 34 56 C", "RSSMRA85T10A562S". Only the text around such clusters is searched.
_DIGIT_CLUSTER = re.compile(r"\d(?:[ \u00a0\-./()A-Z]{0,2}\d){5}")
# Longer strings (style sheets, serialised snapshots) are searched in windows this far around
# each digit cluster or "@"; every pattern's match and look-arounds fit inside.
_WHOLE_TEXT = 512
_DIGIT_MARGIN = 48
_EMAIL_BEFORE, _EMAIL_AFTER = 72, 160
# Stands in for a detected value: like the "]" of a mask token, no pattern reads it as a part
# of a number, a word or an address.
_BLANK = "\x1f"
# Which of two overlapping matches of the same extent wins.
_PRIORITY = {"email": 0, "card": 1, "iban": 2, "national_id": 3, "phone": 4}


def find_pii(text: str, *, context: str = "") -> list[Match]:
    """Personal data in ``text``, in order, not overlapping.

    ``context`` is text that labels this string without being part of it, such as the JSON key
    or form-field name it was found under; it lets a labelled bare number count (see module doc).
    """
    if len(text) < _MIN_LENGTH:
        return []
    found = _find_in_views(text, context)
    if found and "+" in text and _PLUS_BETWEEN.search(text):
        # Two readings of one text: what one found can free a number next to it in the other.
        while more := _find_in_views(_blank(text, [(m.start, m.end) for m in found]), context):
            found = _without_overlaps(found + more)
    return found


def _find_in_views(text: str, context: str) -> list[Match]:
    views = [decoded_view(text)]
    if "+" in text and _PLUS_BETWEEN.search(text):
        # Same length, so its spans are spans of ``text``; "%2B" still decodes to a plus.
        views.append(decoded_view(text.replace("+", " ")))
    found: list[Match] = []
    for view in views:
        for kind, start, end in _detect_until_settled(view.text, context):
            original_start, original_end = view.original_span(start, end)
            found.append(Match(kind, original_start, original_end, view.text[start:end]))
    return _without_overlaps(found)


def _without_overlaps(found: list[Match]) -> list[Match]:
    found.sort(key=lambda m: (m.start, m.start - m.end, _PRIORITY[m.kind]))
    kept: list[Match] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept


def _detect_until_settled(text: str, context: str) -> list[tuple[str, int, int]]:
    """Detections in ``text``, and then in what is left once they are blanked out.

    A number right after another is left alone ("123-45-6789 4111…" might be one long number);
    once the first is known to be personal data the second stands alone, as it will in the
    masked text. Searching again keeps masking idempotent; later rounds search only next to
    what the round before blanked, so a long list costs one search per item.
    """
    found: list[tuple[str, int, int]] = []
    near = None
    while new := list(_detect(text, context, near)):
        found += new
        near = sorted((start, end) for _kind, start, end in new)
        text = _blank(text, near)
    return found


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)
        pieces += (text[last:start], _BLANK * (end - start))
        last = max(last, end)
    return "".join(pieces) + text[last:]


def _detect(text: str, context: str,
            near: list[tuple[int, int]] | None) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` in ``text``; only around the spans ``near`` when given."""
    if near is not None:
        email_windows = digit_windows = _windows(text, near, _EMAIL_BEFORE, _EMAIL_AFTER)
    else:
        email_windows = _windows(text, _at_signs(text), _EMAIL_BEFORE, _EMAIL_AFTER)
        clusters = ((m.start(), m.end()) for m in _DIGIT_CLUSTER.finditer(text))
        digit_windows = _windows(text, clusters, _DIGIT_MARGIN, _DIGIT_MARGIN)
    for window in email_windows:
        yield from _emails(text, *window)
    for window in digit_windows:
        yield from _cards(text, *window)
        yield from _ibans(text, *window)
        yield from _national_ids(text, *window, context)
        yield from _phones(text, *window, context)


def _at_signs(text: str) -> Iterator[tuple[int, int]]:
    at = text.find("@")
    while at >= 0:
        yield at, at + 1
        at = text.find("@", at + 1)


def _windows(text: str, spans: Iterable[tuple[int, int]], before: int,
             after: int) -> list[tuple[int, int]]:
    """Merged ``(pos, endpos)`` windows around ``spans``; the whole text when it is short."""
    spans = iter(spans)
    if len(text) <= _WHOLE_TEXT:
        return [(0, len(text))] if next(spans, None) else []
    windows: list[tuple[int, int]] = []
    for start, end in spans:
        start, end = max(0, start - before), min(len(text), end + after)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


# --- e-mail -------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])\w[\w.+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})"
    r"(?![\w-]|\.[A-Za-z0-9])"
)
# "logo@2x.png" is an image name, not an address.
_FILE_EXTENSIONS = frozenset({
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "bmp", "tif", "tiff", "css",
    "js", "mjs", "cjs", "ts", "tsx", "jsx", "json", "map", "html", "htm", "php", "woff",
    "ttf", "otf", "eot", "mp", "webm", "mov", "pdf", "txt", "xml",
})


def _emails(text: str, pos: int, endpos: int) -> Iterator[tuple[str, int, int]]:
    for m in _EMAIL.finditer(text, pos, endpos):
        # "https://key@host" is a URL's credentials (mask_url redacts those), not an address.
        url_credentials = text.startswith("//", m.start() - 2)
        if m.group("tld").lower() not in _FILE_EXTENSIONS and not url_credentials:
            yield "email", m.start(), m.end()


# --- payment cards and IBANs --------------------------------------------------------------

# A digit run is not part of a larger number: no digit, letter or decimal point glued to it,
# and no further digit group after a separator.
# (The first digit is consumed before looking behind it, so the engine can skip to digits.)
_FIRST_DIGIT = r"\d(?<![\w.]\d)(?<!\w-\d)(?<!\d \d)"
_NOT_AFTER = r"(?!\w|[.,]\d| \d|-\w)"
_CARD = re.compile(
    _FIRST_DIGIT
    + r"(?:\d{12,18}"
    r"|\d{3}(?P<sep>[ -])\d{4}(?:(?P=sep)\d{4}){1,2}(?:(?P=sep)\d{1,3})?"
    r"|\d{3}(?P<sep2>[ -])\d{6}(?P=sep2)\d{4,5})"
    + _NOT_AFTER
)


def _cards(text: str, pos: int, endpos: int) -> Iterator[tuple[str, int, int]]:
    for m in _CARD.finditer(text, pos, endpos):
        digits = re.sub(r"\D", "", m.group())
        if _plausible_card_prefix(digits) and luhn.is_valid(digits):
            yield "card", m.start(), m.end()


def _plausible_card_prefix(digits: str) -> bool:
    """Whether a known card scheme issues numbers of this prefix and length."""
    n = len(digits)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:  # Mastercard
        return n == 16
    if p2 in (34, 37):  # American Express
        return n == 15
    if p4 == 6011 or 644 <= p3 <= 649 or p2 in (62, 65) or 3528 <= p4 <= 3589:
        return 16 <= n <= 19  # Discover, UnionPay, JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):  # Diners Club
        return n in (14, 16)
    if p2 == 50 or 56 <= p2 <= 69:  # Maestro
        return n >= 16
    return False


_IBAN = re.compile(
    r"(?<!\w)[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,8}(?: ?[A-Za-z0-9]{1,3})?(?!\w)"
)


def _ibans(text: str, pos: int, endpos: int) -> Iterator[tuple[str, int, int]]:
    for m in _IBAN.finditer(text, pos, endpos):
        candidate = m.group()
        # Grouped IBANs may run into the next word-sized group; drop trailing groups.
        for _ in range(3):
            if iban.is_valid(candidate):
                yield "iban", m.start(), m.start() + len(candidate)
                break
            if " " not in candidate:
                break
            candidate = candidate.rsplit(" ", 1)[0]


# --- national identity numbers ------------------------------------------------------------

# Identity numbers whose layout is strict enough to be recognised anywhere. One pattern, one
# pass; it starts by consuming a digit or capital so the regex engine can skip to candidates,
# looks behind that first character for a boundary, and an empty group names the branch.
_STRICT_ID = re.compile(
    r"[\dA-Z](?:"
    # US Social Security number, written 123-45-6789
    r"(?<=\d)(?<![\w-].)(?P<ssn>)\d{2}-\d{2}-\d{4}(?![\w-])"
    # UK National Insurance number: two prefix letters, six digits, A-D
    r"|(?<=[A-CEGHJ-PR-TW-Z])(?<!\w.)(?P<nino>)[A-CEGHJ-NPR-TW-Z](?: ?\d{2}){3} ?[A-D](?!\w)"
    # Spanish DNI and NIE, with their check letter
    r"|(?<=\d)(?<![\w-].)(?P<dni>)\d{7}-?[A-Z](?![\w-])"
    r"|(?<=[XYZ])(?<![\w-].)(?P<nie>)-?\d{7}-?[A-Z](?![\w-])"
    # Italian codice fiscale (digits may be replaced by letters, "omocodia")
    r"|(?<=[A-Z])(?<!\w.)(?P<codice_fiscale>)[A-Z]{5}[0-9LMNPQRSTUV]{2}[A-EHLMPRST]"
    r"[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z](?!\w)"
    # French NIR in its printed, spaced form
    r"|(?<=[12])(?<!\w.)(?P<nir>) \d{2} \d{2} (?:\d{2}|2[AB]) \d{3} \d{3} \d{2}(?!\w)"
    r")"
)
# National Insurance prefixes that are never issued.
_NINO_UNUSED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_LABELLED_NUMBER = re.compile(_FIRST_DIGIT + r"[\d .-]{7,20}\d" + _NOT_AFTER)
# Text this close before a number can label it ("SSN: 123456789", '"bsn":"123456782"').
_LABEL_WINDOW = 40


def _keywords(*alternatives: str) -> re.Pattern[str]:
    # Whole words, camelCase-aware: "phoneNumber" and "tel:" label, "telemetry" does not.
    # Our own mask tokens ("[PHONE]") label nothing: masking must not make a number count.
    words = "|".join(alternatives)
    return re.compile(
        r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?!PHONE\]|NATIONAL_ID\])"
        rf"(?i:(?:{words})(?:[ _-]?(?:no|nr|num|number|nummer|numero|numéro))?s?)(?![a-z])"
    )


_NATIONAL_ID_LABEL = _keywords(
    r"ssn", r"social[ _-]?security", r"bsn", r"burgerservicenummer", r"sofinummer",
    r"steuer[ _-]?id(?:nr)?", r"steueridentifikationsnummer", r"identifikationsnummer", r"idnr",
    r"tax[ _-]?id", r"tin", r"nir", r"insee", r"s[ée]curit[ée][ _-]sociale", r"s[ée]cu",
    r"national[ _-]?id",
)
_PHONE_LABEL = _keywords(
    r"phone", r"tel", r"telephone", r"t[ée]l[ée]phone", r"telefon", r"tel[ée]fono",
    r"telefoon", r"mobile?", r"cell(?:phone)?", r"fax", r"handy", r"portable", r"whatsapp",
    r"sms", r"call",
)


def _labelled(label: re.Pattern[str], text: str, start: int, context: str) -> bool:
    return bool(label.search(text, max(0, start - _LABEL_WINDOW), start)
                or (context and label.search(context)))


def _national_ids(text: str, pos: int, endpos: int,
                  context: str) -> Iterator[tuple[str, int, int]]:
    for m in _STRICT_ID.finditer(text, pos, endpos):
        if _STRICT_ID_VALID[m.lastgroup](m.group()):
            yield "national_id", m.start(), m.end()
    for m in _LABELLED_NUMBER.finditer(text, pos, endpos):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) not in (9, 11, 15) or not _labelled(
                _NATIONAL_ID_LABEL, text, m.start(), context):
            continue
        if _valid_labelled_id(digits):
            yield "national_id", m.start(), m.end()


_STRICT_ID_VALID = {
    "ssn": ssn.is_valid,
    "nino": lambda value: value[:2] not in _NINO_UNUSED,
    "dni": dni.is_valid,
    "nie": nie.is_valid,
    "codice_fiscale": codicefiscale.is_valid,
    "nir": nir.is_valid,
}


def _valid_labelled_id(digits: str) -> bool:
    if len(digits) == 9:
        return ssn.is_valid(digits) or bsn.is_valid(digits)
    if len(digits) == 11:
        return idnr.is_valid(digits)
    return nir.is_valid(digits)


# --- phone numbers ------------------------------------------------------------------------

# The ways people write phone numbers. Anything else (SVG path data, CSS values, coordinate
# lists) is never handed to libphonenumber, which would accept many of them as valid.
_SPACE = r"[ \u00a0]"
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w.+/])(?<!\w-)(?<!\d )(?<!\d:)(?:"
    # international: +44 20 7946 0958, 0044 20 7946 0958, +33 6 12 34 56 78
    rf"(?P<intl>(?:\+|00){_SPACE}?\d{{1,3}}(?:[ \u00a0.\-/]?\(?\d{{1,6}}\)?){{1,6}})"
    # North American: (212) 555-1234, 212-555-1234, 1.212.555.1234
    rf"|(?P<nanp>(?:1[ .-]?)?\(\d{{3}}\){_SPACE}?\d{{3}}[ .-]\d{{4}}"
    r"|(?:1[ .-])?\d{3}(?P<sep>[ .-])\d{3}(?P=sep)\d{4})"
    # with a trunk zero: 020 7946 0958, 06 12 34 56 78, (030) 1234 5678, 0170/1234567
    r"|(?P<trunk>\(?0\d{1,4}\)?(?:[ \u00a0/.\-]?\d{2,8}){1,5})"
    r"|(?P<bare>\d{7,15})"
    r")(?!\w|[.,:]\d| \d|-\w)"
)
# 03.08.2021, 2021-08-03: dates written like trunk-prefixed numbers.
_DATE = re.compile(
    r"\d{1,2}(?P<s>[./-])\d{1,2}(?P=s)\d{2,4}|\d{4}(?P<t>[./-])\d{1,2}(?P=t)\d{1,2}"
)
# Shorter trunk-prefixed numbers exist (some German towns) but look like any pair of dates.
_SHORTEST_TRUNK = 9
_TRUNK_ZERO_REGIONS = tuple(
    region for region in DEFAULT_REGIONS
    if phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix == "0"
)
_NANP_REGIONS = tuple(
    region for region in DEFAULT_REGIONS if phonenumbers.country_code_for_region(region) == 1
)
_COUNTRY_CODES = {region: phonenumbers.country_code_for_region(region)
                  for region in DEFAULT_REGIONS}


def _phones(text: str, pos: int, endpos: int,
            context: str) -> Iterator[tuple[str, int, int]]:
    for m in _PHONE_CANDIDATE.finditer(text, pos, endpos):
        candidate = m.group()
        if m.group("intl"):
            # A "+" or "00" number names its country; the region only supplies the "00".
            regions: tuple[str, ...] = ("GB",)
        elif m.group("nanp"):
            regions = _NANP_REGIONS
        elif _DATE.fullmatch(candidate) or (
                m.group("trunk") and sum(c.isdigit() for c in candidate) < _SHORTEST_TRUNK):
            continue  # a date, or a short number that reads like two dates
        else:
            regions = _TRUNK_ZERO_REGIONS if m.group("trunk") else _NANP_REGIONS
            if candidate.isdigit() and not _labelled(_PHONE_LABEL, text, m.start(), context):
                continue
        digits = sum(c.isdigit() for c in candidate)
        for region in regions:
            # The number must be the whole candidate: a valid number inside a longer digit
            # sequence is more likely a part of something else.
            numbers = [number for number in PhoneNumberMatcher(candidate, region,
                                                               leniency=Leniency.VALID)
                       if _written_for(number, region)
                       and sum(c.isdigit() for c in number.raw_string) == digits]
            for number in numbers:
                yield "phone", m.start() + number.start, m.start() + number.end
            if numbers:
                break


def _written_for(number: phonenumbers.PhoneNumberMatch, region: str) -> bool:
    """Whether a number without "+" or "00" is one of ``region``'s, written as it dials them."""
    raw = number.raw_string.lstrip("(")
    if raw.startswith(("+", "00")):
        return True
    if number.number.country_code != _COUNTRY_CODES[region]:
        return False
    return region not in _TRUNK_ZERO_REGIONS or raw.startswith("0")
