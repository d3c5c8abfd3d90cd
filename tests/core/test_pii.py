"""Personal data: found in plain and escaped text with spans in the original, masked everywhere
it hides, and never "found" in the ordinary numbers recordings are full of."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections import Counter
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.pii import (
    HIDDEN,
    REDACTED,
    TOKENS,
    find_pii,
    mask_json,
    mask_query,
    mask_text,
    mask_url,
    scan_json,
    sensitive_field,
)
from tests.core.support import FIXTURES

# Published test values (card networks' test numbers, the IBAN registry's examples, HMRC's and
# the stdnum documentation's sample identifiers, numbers from ranges reserved for drama).
PLANTED = [
    ("email", "jane.doe+news@example.co.uk"),
    ("email", "o_brien@mail.example.org"),
    ("phone", "+44 20 7946 0958"),
    ("phone", "(212) 555-1234"),
    ("phone", "+33 6 12 34 56 78"),
    ("phone", "020 7946 0958"),
    ("card", "4111 1111 1111 1111"),
    ("card", "5555-5555-5555-4444"),
    ("card", "378282246310005"),
    ("iban", "DE89 3704 0044 0532 0130 00"),
    ("iban", "GB82WEST12345698765432"),
    ("national_id", "123-45-6789"),
    ("national_id", "AB 12 34 56 C"),
    ("national_id", "12345678Z"),
    ("national_id", "RSSMRA85T10A562S"),
    ("national_id", "2 95 10 99 126 111 93"),
]
PLANTED_IDS = [value for _, value in PLANTED]


def json_escaped(value: str) -> str:
    return "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in value)


def html_decimal(value: str) -> str:
    return "".join(c if c.isalnum() else f"&#{ord(c)};" for c in value)


def html_hex_double(value: str) -> str:
    # Escaped twice, as an attribute value copied into escaped HTML is.
    return "".join(c if c.isalnum() else f"&amp;#x{ord(c):x};" for c in value)


ENCODINGS = {
    "plain": lambda v: v,
    "url": lambda v: quote(v, safe=""),
    "form": quote_plus,
    "url_twice": lambda v: quote(quote(v, safe=""), safe=""),
    "json": json_escaped,
    "json_string": lambda v: json.dumps(json.dumps({"v": v}))[1:-1],
    "html": html_decimal,
    "html_twice": html_hex_double,
}


# --- finding ------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("kind", "value"), PLANTED, ids=PLANTED_IDS)
def test_each_kind_is_found_with_its_span_in_the_original(kind, value, encoding):
    encoded = ENCODINGS[encoding](value)
    before, after = "Contact us: ", " (thanks!)"
    text = before + encoded + after
    matches = find_pii(text)
    assert [m.kind for m in matches] == [kind]
    match = matches[0]
    if encoding == "json_string":  # the value sits inside the escaped JSON object
        start = text.index(value)
        assert (match.start, match.end) == (start, start + len(value))
    else:
        assert (match.start, match.end) == (len(before), len(before) + len(encoded))
    assert match.value == value


def test_spans_are_exact_between_other_escapes():
    text = "q=a%20b&email=jane%40example.com&next=%2Fhome&card=4111%201111%201111%201111"
    matches = find_pii(text)
    assert [(m.kind, text[m.start:m.end]) for m in matches] == [
        ("email", "jane%40example.com"), ("card", "4111%201111%201111%201111")]


def test_international_numbers_are_found_anywhere():
    for text in ("tel:+1-212-555-1234", "call +49 30 12345678 today", "0044 20 7946 0958",
                 '{"to":"+442079460958"}'):
        assert [m.kind for m in find_pii(text)] == ["phone"], text


@pytest.mark.parametrize(("label", "number"), [
    ("phone: ", "2125551234"),
    ("Mobile ", "07911123456"),
    ("SSN ", "123456789"),
    ('{"bsn":"', "111222333"),
    ("Steuer-ID: ", "86095742719"),
    ("NIR ", "295109912611193"),
])
def test_bare_numbers_count_only_with_a_label(label, number):
    labelled = find_pii(label + number)
    assert [(m.start, m.end) for m in labelled] == [(len(label), len(label) + len(number))]
    assert find_pii("ref " + number) == []
    assert find_pii(number, context=label.strip(' {":')) != []


def test_labels_are_whole_words():
    assert find_pii("telemetry 2125551234") == []
    assert find_pii("hotel 2125551234") == []
    assert find_pii("phoneNumber=2125551234") != []


def test_invalid_look_alikes_are_not_found():
    look_alikes = [
        "4111 1111 1111 1112",  # Luhn fails
        "1234 5678 9012 3456",  # no card scheme starts with 1
        "DE89 3704 0044 0532 0130 01",  # IBAN check digits fail
        "666-45-6789",  # SSN area 666 is never issued
        "BG 12 34 56 C",  # NINO prefix never issued
        "12345678A",  # DNI letter wrong
        "logo@2x.png",  # image name
        "https://key@o0.ingest.sentry.io/0",  # URL credentials, not an address
    ]
    for text in look_alikes:
        assert find_pii(text) == [], text


def ordinary_strings(seed: int = 7, rounds: int = 300) -> list[str]:
    rng = random.Random(seed)
    out = ["", "ok", "Sign in", "100%", "50% off", "a & b", "C:\\temp\\new", "€ 1.234,56",
           "@media (max-width:600px){.a{width:91.66666667%}}", "font: 12px/1.5 sans-serif",
           "viewBox=\"64 64 896 896\"", "scale(0.833333) rotate(0deg)", "user@localhost",
           "npm i react@18.2.0", "&nbsp;&copy; 2023 PostHog, Inc.", "%E2%9C%93 done"]
    for _ in range(rounds):
        ts = rng.randint(1_500_000_000_000, 1_800_000_000_000)
        day = dt.datetime.fromtimestamp(ts / 1000, dt.UTC)
        out += [
            str(ts), f"timestamp: {ts}", str(ts // 1000), str(ts * 1000), f"{ts / 1000:.3f}",
            day.isoformat(), day.strftime("%d.%m.%Y %H:%M"), day.strftime("%d.%m.%Y"),
            day.strftime("%m/%d/%Y"), day.strftime("%Y%m%d%H%M%S"),
            day.strftime("%Y-%m-%d %H:%M:%S.%f"), day.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            f"${rng.randint(1, 99999):,}.{rng.randint(0, 99):02d}",
            f"Order #{rng.randint(100000, 99999999)}",
            f"ORD-{day.year}-{rng.randint(0, 999999):06d}",
            f"node {rng.randint(1, 10**6)}", str(uuid.UUID(int=rng.getrandbits(128))),
            f"v{rng.randint(0, 20)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}",
            ".".join(str(rng.randint(0, 255)) for _ in range(4)),
            f"#{rng.getrandbits(24):06x}", f"{rng.uniform(0, 1)}",
            f"0.{rng.randint(10**15, 10**17)}",
            f"translate({rng.uniform(-999, 999):.4f}px, {rng.uniform(-999, 999):.4f}px)",
            f"rgba({rng.randint(0, 255)}, {rng.randint(0, 255)}, {rng.randint(0, 255)}, 0.5)",
            "M{} {} L{} {} {} {}".format(*(rng.randint(0, 999) for _ in range(6))),
            " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4)),
            orjson.dumps({"type": 3, "timestamp": ts, "data": {"source": 1, "positions": [
                {"x": rng.randint(0, 1920), "y": rng.randint(0, 1080), "id": rng.randint(1, 9999),
                 "timeOffset": -rng.randint(0, 500)}]}}).decode(),
        ]
    return out


def test_no_false_positives_on_ordinary_strings():
    found = {text: find_pii(text) for text in ordinary_strings()}
    assert {text: matches for text, matches in found.items() if matches} == {}


def rrweb_events(name: str) -> list:
    return orjson.loads((FIXTURES / "rrweb" / name).read_bytes())["result"]


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_a_real_recording_holds_nothing_but_the_sites_own_addresses():
    # The PostHog homepage shows hey@/sales@posthog.com; its thousands of numbers (timestamps,
    # node ids, coordinates, CSS and SVG values) are none of our kinds.
    events = rrweb_events("posthog-homepage.json")
    texts = [orjson.dumps(event).decode() for event in events]
    texts += [s for event in events for s in strings_in(event)]
    found = [m for text in texts for m in find_pii(text)]
    assert found, "the homepage's mailto: links should be found"
    assert {m.kind for m in found} == {"email"}
    assert all(m.value.endswith("@posthog.com") for m in found)
    assert set(scan_json(events)) == {"email"}


# --- masking text -------------------------------------------------------------------------

def planted_document() -> tuple[str, list[str]]:
    """Ordinary sentences with every planted value in every encoding; and those encodings."""
    parts, encoded_values = [], []
    for index, (_, value) in enumerate(PLANTED):
        for encode in ENCODINGS.values():
            encoded = encode(value)
            encoded_values.append(encoded)
            parts.append(f"Item {index} (see note): {encoded}; the rest is ordinary.")
    return "\n".join(parts), encoded_values


def test_masking_removes_every_planted_value_and_keeps_the_text():
    text, encoded_values = planted_document()
    masked, counts = mask_text(text)
    assert sum(counts.values()) == len(encoded_values)
    assert counts == Counter(kind for kind, _ in PLANTED for _ in ENCODINGS)
    for _, value in PLANTED:
        assert value not in masked
        for encode in ENCODINGS.values():
            assert encode(value) not in masked
    assert find_pii(masked) == []
    assert masked.count("the rest is ordinary.") == len(encoded_values)
    assert masked.count(TOKENS["card"]) == counts["card"]


def test_tokens_replace_the_match_only():
    masked, counts = mask_text('{"q":"mail jane%40example.com&x=1","n":"4111111111111111"}')
    assert masked == '{"q":"mail [EMAIL]&x=1","n":"[CARD]"}'
    assert counts == Counter(email=1, card=1)


texts_with_pii = st.lists(
    st.one_of(st.text(max_size=30), st.sampled_from(PLANTED_IDS),
              st.builds(lambda v, e: ENCODINGS[e](v), st.sampled_from(PLANTED_IDS),
                        st.sampled_from(list(ENCODINGS)))),
    max_size=8,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(texts_with_pii)
def test_masking_is_idempotent_and_leaves_nothing_detectable(text):
    masked, counts = mask_text(text)
    assert find_pii(masked) == []
    assert mask_text(masked) == (masked, Counter())
    assert sum(counts.values()) == len(find_pii(text))


CHARACTER_ESCAPES = [
    lambda c: c,
    lambda c: quote(c, safe=""),
    lambda c: f"\\u{ord(c):04x}",
    lambda c: f"&#{ord(c)};",
    lambda c: f"&#x{ord(c):X};",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PLANTED), st.data())
def test_values_escaped_character_by_character_are_found(planted, data):
    kind, value = planted
    escapes = data.draw(st.lists(st.sampled_from(CHARACTER_ESCAPES), min_size=len(value),
                                 max_size=len(value)))
    encoded = "".join(escape(c) for escape, c in zip(escapes, value, strict=True))
    text = f"<td title='x'>{encoded}</td>"
    matches = find_pii(text)
    assert [(m.kind, m.start, m.end, m.value) for m in matches] == [
        (kind, text.index(encoded), text.index(encoded) + len(encoded), value)]
    assert mask_text(text)[0] == f"<td title='x'>{TOKENS[kind]}</td>"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_spans_of_arbitrary_text_are_ordered_and_in_range(text):
    matches = find_pii(text)
    previous_end = 0
    for match in matches:
        assert previous_end <= match.start < match.end <= len(text)
        previous_end = match.end


# --- fields -------------------------------------------------------------------------------

@pytest.mark.parametrize(("attributes", "expected"), [
    ({"type": "password", "name": "q"}, "password"),
    ({"type": "text", "autocomplete": "current-password"}, "password"),
    ({"type": "text", "autocomplete": "new-password"}, "password"),
    ({"type": "text", "name": "user_passwd"}, "password"),
    ({"type": "text", "id": "loginPwd"}, "password"),
    ({"type": "text", "autocomplete": "cc-number"}, "card"),
    ({"autocomplete": "section-pay billing cc-exp"}, "card"),
    ({"type": "text", "name": "cardnumber"}, "card"),
    ({"type": "tel", "name": "cc-number"}, "card"),
    ({"name": "creditCardNumber"}, "card"),
    ({"name": "cvv"}, "card"),
    ({"name": "ssn"}, "national_id"),
    ({"type": "email"}, "email"),
    ({"autocomplete": "email", "name": "x"}, "email"),
    ({"type": "text", "name": "emailAddress"}, "email"),
    ({"type": "tel"}, "phone"),
    ({"autocomplete": "tel-national"}, "phone"),
    ({"name": "phone_number"}, "phone"),
    ({"type": "hidden", "name": "csrf"}, "hidden"),
    ({"type": "hidden", "name": "password"}, "password"),
    ({"type": "text", "name": "search"}, None),
    ({"type": "text", "name": "passenger_count"}, None),
    ({"type": "text", "name": "cc"}, None),  # carbon copy in a mail form
    ({"type": "text", "id": "mobile-menu-filter"}, None),
    ({"type": "checkbox", "name": "remember_password"}, None),
    ({"type": "submit", "name": "email"}, None),
    ({"type": "text", "name": "className"}, None),  # "ssn" hides in it
    ({"type": "text", "name": "microphone"}, None),
    ({"type": "text", "name": "Passwort"}, "password"),
    ({"type": "PASSWORD"}, "password"),
    ({"type": None, "name": 5}, None),
    ({}, None),
])
def test_sensitive_field(attributes, expected):
    assert sensitive_field(attributes) == expected


# --- URLs ---------------------------------------------------------------------------------

def test_meta_hrefs_of_a_real_recording_lose_credentials_and_card_numbers():
    hrefs = [e["data"]["href"] for e in rrweb_events("posthog-wide-layout.json") if e["type"] == 4]
    with_query = [href for href in hrefs if urlsplit(href).query]
    assert {key for href in with_query for key, _ in parse_qsl(urlsplit(href).query)} == {
        "username", "password", "creditcard"}
    total: Counter[str] = Counter()
    for href in hrefs:
        masked, counts = mask_url(href)
        total += counts
        original, result = urlsplit(href), urlsplit(masked)
        assert (result.scheme, result.netloc, result.path) == (
            original.scheme, original.netloc, original.path)
        assert [key for key, _ in parse_qsl(result.query)] == [
            key for key, _ in parse_qsl(original.query)]
        assert all(value == REDACTED for _, value in parse_qsl(result.query))
        for _, value in parse_qsl(original.query):
            assert f"={value}" not in masked
    assert total == Counter(username=1, password=1, card=1)


def test_mask_url():
    masked, counts = mask_url("https://bob:s3cret@shop.example/u/jane%40example.com/orders"
                              "?page=2&utm_source=mail&q=red+shoes&phone=2125551234&token=abc"
                              "#/checkout?cc=4111111111111111")
    assert masked == ("https://[REDACTED]@shop.example/u/[EMAIL]/orders"
                      "?page=2&utm_source=mail&q=[REDACTED]&phone=[REDACTED]&token=[REDACTED]"
                      "#/checkout?cc=[REDACTED]")
    assert counts == Counter(username=1, password=1, email=1, phone=1, card=1)
    # A harmless key keeps its value unless the value itself is personal data.
    assert mask_url("/list?page=jane%40example.com")[0] == "/list?page=[REDACTED]"
    assert mask_url("mailto:jane@example.com?subject=Hi")[0] == "mailto:[EMAIL]?subject=[REDACTED]"
    assert mask_url("https://example.com/a/b?x#top") == ("https://example.com/a/b?x#top", Counter())


def test_mask_url_is_idempotent():
    once, _ = mask_url("https://a:b@h.example/?password=x&email=j%40e.com#access_token=t")
    assert mask_url(once) == (once, Counter())


def test_mask_query_shows_keys_only():
    assert mask_query("https://u:p@h.example/search/jane@example.com?q=shoes&page=2&flag#x=1"
                      ) == "https://…@h.example/search/[EMAIL]?q=…&page=…&…#x=…"
    assert mask_query("https://h.example/docs#intro") == "https://h.example/docs#intro"
    assert HIDDEN == "…"


# --- JSON ---------------------------------------------------------------------------------

def test_mask_json_masks_every_string_and_keeps_structure():
    payload = {
        "level": "log",
        "payload": ["user jane@example.com signed in", {"card": "4111 1111 1111 1111"}],
        "body": orjson.dumps({"email": "j@example.com", "n": 4111111111111111}).decode(),
        "form": "username=jane&password=hunter2&note=call+%2B44+20+7946+0958",
        "password": "hunter2",
        "hasPassword": "true",
        "phone": 2125551234,
        "count": 2125551234,
        "jane@example.com": {"id": 1},
        "joe@example.com": {"id": 2},
        "timestamp": 1682952380877,
    }
    original = orjson.dumps(payload)
    masked, counts = mask_json(payload)
    assert orjson.dumps(payload) == original  # the input is not changed
    assert masked["level"] == "log"
    assert masked["payload"] == ["user [EMAIL] signed in", {"card": "[CARD]"}]
    assert orjson.loads(masked["body"]) == {"email": "[EMAIL]", "n": "[CARD]"}
    assert masked["form"] == "username=[USERNAME]&password=[PASSWORD]&note=call+[PHONE]"
    assert masked["password"] == "[PASSWORD]"
    assert masked["hasPassword"] == "true"
    assert masked["phone"] == "[PHONE]"  # a bare number under a phone key
    assert masked["count"] == 2125551234  # the same number under another key
    assert masked["[EMAIL]"] == {"id": 1} and masked["[EMAIL] 2"] == {"id": 2}
    assert masked["timestamp"] == 1682952380877
    assert counts == Counter(email=4, card=2, password=2, username=1, phone=2)
    assert scan_json(payload) == counts
    assert mask_json(masked) == (masked, Counter())
    assert scan_json(masked) == Counter()


def test_scan_json_counts_without_values():
    counts = scan_json([{"text": "IBAN DE89 3704 0044 0532 0130 00"}, "AB123456C", 7, None, True])
    assert counts == Counter(iban=1, national_id=1)
