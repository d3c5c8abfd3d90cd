"""Personal-data detection speed: ``find_pii`` over 100k strings of the kind recordings carry.

The strings are every text node, attribute value, typed input, page address and console
argument in the real recordings under ``../shared/fixtures`` and a synthetic session, cycled to
the requested count, with one in fifty carrying planted personal data (some of it URL-, JSON- or
HTML-escaped). Style sheets are included as they are: they are the longest strings a snapshot
holds.

Two references are measured in the same run (shared machines are noisy; only ratios mean
anything): serialising each string with orjson (one pass over its characters, as the importer
makes), and libphonenumber's matcher alone over a sample (what calling it on every string, for
one region and one kind, would cost).

    python benchmarks/pii_speed.py [--strings N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import orjson
from _common import ROOT, synthetic_json
from phonenumbers import Leniency, PhoneNumberMatcher

from inspector.core.pii import find_pii

FIXTURES = ROOT.parent / "shared" / "fixtures" / "rrweb"
PLANTED = ["jane.doe@example.com", "jane%40example.com", "+44 20 7946 0958", "(212) 555-1234",
           "4111 1111 1111 1111", "4111\\u00201111\\u00201111\\u00201111",
           "DE89 3704 0044 0532 0130 00", "123-45-6789", "AB 12 34 56 C", "j&#64;example.org"]
# Where rrweb keeps what a page showed or a person typed.
TEXT_KEYS = {"textContent", "text", "href", "src", "value", "placeholder", "title", "alt",
             "aria-label", "payload", "_cssText", "content"}


def strings_of(value, key: str = ""):
    if isinstance(value, str):
        if key in TEXT_KEYS:
            yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from strings_of(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item, key)


def realistic_strings(count: int) -> list[str]:
    pool: list[str] = []
    for path in sorted(FIXTURES.glob("posthog-*.json")):
        pool += strings_of(orjson.loads(path.read_bytes()))
    pool += strings_of(orjson.loads(synthetic_json(20_000).read_bytes()))
    rng = random.Random(1)
    out = []
    while len(out) < count:
        text = pool[len(out) % len(pool)]
        if rng.random() < 0.02:
            text = f"{text[:40]} {rng.choice(PLANTED)} {text[40:80]}"
        out.append(text)
    return out


def timed(function, strings: list[str]) -> float:
    start = time.perf_counter()
    for text in strings:
        function(text)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strings", type=int, default=100_000)
    args = parser.parse_args()
    strings = realistic_strings(args.strings)
    chars = sum(map(len, strings))
    print(f"input: {len(strings):,} strings, {chars / 1e6:,.1f} M characters, "
          f"longest {max(map(len, strings)):,}")

    reference = timed(orjson.dumps, strings)
    ours = timed(find_pii, strings)
    found = sum(len(find_pii(text)) for text in strings)
    sample = strings[:: max(1, len(strings) // 2_000)]
    matcher = timed(lambda text: list(PhoneNumberMatcher(text, "US", Leniency.VALID)), sample)
    matcher_all = matcher * len(strings) / len(sample)

    print(f"find_pii:            {ours:6.2f} s  ({ours / len(strings) * 1e6:6.1f} us/string, "
          f"{found:,} matches)")
    print(f"orjson.dumps:        {reference:6.2f} s  -> find_pii costs {ours / reference:,.0f}x")
    print(f"phonenumbers alone:  {matcher_all:6.2f} s  (one region, extrapolated from "
          f"{len(sample):,} strings) -> find_pii costs {ours / matcher_all:,.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
