#!/usr/bin/env python3
"""Writes the demo replay archive and the ground truth of what was planted in it.

The demo is a small online outdoor shop (shop, account and support pages) visited by six people
over a week in March 2024. Every situation the opt-out audit must get right is put into it on
purpose, and ``expected.json`` records, from this script's own plan, which events the audit must
flag: each session script says when the person it records is opted out, so every event is
labelled as it is written, not by re-deriving the rules afterwards. ``tests/core/
test_sample_data.py`` checks those labels against an independent reading of the archive.

Standard library only, so it runs with any Python 3.11+. Output is byte-identical on every run:
one fixed seed per session, fixed zip timestamps and attributes, sorted members, gzip mtime 0.

    python sample_data/make_sample.py [--out DIR]

The archive format is described in ``docs/archive-format.md``; what is planted where, in
``sample_data/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20240312
SITE = "https://shop.fernhill.example"
EXPORTER = "fernhill-replay-export 2.3.1"
EXPORTED_AT = "2024-03-31T10:15:00+01:00"
ZIP_DATE_TIME = (2024, 3, 31, 9, 15, 0)
ARCHIVE_NAME = "demo-archive.zip"
EXPECTED_NAME = "expected.json"

CSS_PATH = "/static/css/app.7d41c9.css"
JS_PATH = "/static/js/app.3f9c2e.js"
VENDOR_JS = "/static/js/vendor.b81e07.js"
ANALYTICS_JS = "https://assets.analytics.example/static/array.js"

#: What each kind of event is, for the "categories" of expected.json.
CATEGORY_BY_SOURCE = {0: "page_content", 1: "pointer_scroll", 2: "pointer_scroll",
                      3: "pointer_scroll", 5: "typed_input", 6: "pointer_scroll"}
CATEGORY_BY_PLUGIN = {"rrweb/console@1": "console", "rrweb/network@1": "network"}
PII_KINDS = ("email", "phone", "card", "iban", "national_id", "password")


def category_of(event: dict) -> str:
    kind = event["type"]
    if kind == 2:
        return "page_content"
    if kind == 3:
        return CATEGORY_BY_SOURCE[event["data"]["source"]]
    if kind == 4:
        return "page_urls"
    if kind == 5:
        return "custom"
    return CATEGORY_BY_PLUGIN[event["data"]["plugin"]]


# -- valid-looking personal data ------------------------------------------------------------

def luhn_complete(partial: str) -> str:
    """A card number: ``partial`` (15 digits, spaces allowed) plus its Luhn check digit."""
    digits = [int(c) for c in partial if c.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return f"{partial}{(10 - total % 10) % 10}"


def iban_for(country: str, bban: str) -> str:
    """An IBAN with correct mod-97 check digits, printed in groups of four."""
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    compact = f"{country}{98 - number % 97:02d}{bban}"
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


@dataclass(frozen=True)
class Person:
    name: str  # the stable name used in expected.json
    full_name: str
    email: str
    phone: str
    card: str
    card_exp: str
    address: tuple[str, str, str, str]  # street, city, postcode, country
    password: str
    iban: str = ""
    national_id: str = ""
    national_id_label: str = ""

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0]


ALICE = Person("alice", "Alice Moreau", "alice.moreau@example.com", "+44 7823 519604",
               luhn_complete("4539 1488 0343 646"), "09/27",
               ("14 Larch Close", "Bristol", "BS6 7QT", "United Kingdom"), "Lavender-Fields-77",
               iban=iban_for("GB", "BARC20325364817293"), national_id="JG 10 37 59 A",
               national_id_label="National Insurance number")
BOB = Person("bob", "Bob Tran", "bob.tran@example.net", "+1 212 555 0147",
             luhn_complete("5425 2334 3010 990"), "11/26",
             ("381 Park Place", "Brooklyn, NY", "11238", "United States"), "harbor-Kite-2019")
CAROL = Person("carol", "Carol Jensen", "carol.jensen@example.org", "+1 646 555 0192",
               luhn_complete("4716 2093 5548 127"), "04/28",
               ("56 Orchard Street", "New York, NY", "10002", "United States"), "Pebble&Fern88")
DAN = Person("dan", "Dan Becker", "d.becker@example.com", "+49 170 3845921",
             luhn_complete("4917 4845 8989 710"), "02/26",
             ("Lindenstraße 12", "Berlin", "10969", "Germany"), "Spree-Ufer-41",
             iban=iban_for("DE", "370400440532013000"))
ERIN = Person("erin", "Erin Walsh", "erin.walsh@example.org", "+1 415 555 0132",
              luhn_complete("5191 8823 0417 552"), "07/27",
              ("2210 Fell Street", "San Francisco, CA", "94117", "United States"),
              "quiet-Redwood-5", national_id="512-44-8391",
              national_id_label="Social Security number")
FRANK = Person("frank", "Frank Osei", "frank.osei@example.com", "+44 7834 261907",
               luhn_complete("4485 2750 4227 934"), "12/25",
               ("7 Mill Lane", "Leeds", "LS6 2DN", "United Kingdom"), "kestrel-Moor-63")
PEOPLE = (ALICE, BOB, CAROL, DAN, ERIN, FRANK)

# The keys that name people and devices in manifests, the consent ledger and identities.
ALICE_USER, ALICE_ANON_LAPTOP = "u_10428", "018e2a31-5c7d-7b42-8f1e-3a9c6d0b2e71"
ALICE_ANON_PHONE = "018e3561-0b9a-7e13-a4c2-7d5f1e8b6a09"
ALICE_LAPTOP, ALICE_PHONE = "dev_a1c3e9f2", "dev_5b7d2e80"
BOB_USER, BOB_ANON = "u_20931", "018e1f0c-93d4-7a6b-b215-6c0e4f9a3d58"
BOB_MAC = "dev_9e04b6d1"
FAMILY_IPAD = "dev_c47f1a3b"  # shared by Bob and Carol
CAROL_USER, CAROL_ANON = "u_31377", "018e2466-d1f8-7c90-9e37-0b5a2c8f4e16"
CAROL_PHONE = "dev_2d8e5c94"
DAN_USER, DAN_PHONE = "u_47102", "dev_71f0a2c6"
ERIN_USER, ERIN_LAPTOP, ERIN_PHONE = "u_52288", "dev_e3b59d07", "dev_48c2f1be"
FRANK_USER, FRANK_PC, FRANK_PHONE = "u_60415", "dev_0a6d93e5", "dev_b2e87c41"

IDENTITIES = [
    {"subject": ALICE_USER, "alias": ALICE_ANON_LAPTOP},
    {"subject": ALICE_USER, "alias": ALICE_ANON_PHONE},
    {"subject": ALICE_ANON_PHONE, "alias": ALICE_PHONE},
    {"subject": BOB_USER, "alias": BOB_ANON},
    {"subject": CAROL_USER, "alias": CAROL_ANON},
]

PRODUCTS = [
    ("ridgeline-trail-jacket", "Ridgeline Trail Jacket", 12900),
    ("merino-base-layer", "Merino Base Layer", 5400),
    ("alpine-gtx-boots", "Alpine GTX Boots", 14900),
    ("daypack-22", "Daypack 22L", 6900),
    ("featherlight-down-vest", "Featherlight Down Vest", 8900),
    ("pocket-camp-stove", "Pocket Camp Stove", 3900),
    ("halfmoon-2p-tent", "Halfmoon 2P Tent", 24900),
    ("beacon-head-torch", "Beacon Head Torch", 2900),
    ("summit-fleece", "Summit Fleece", 5900),
    ("hiking-socks-3-pack", "Hiking Socks (3 pack)", 1800),
    ("insulated-bottle", "Insulated Bottle 750ml", 2400),
    ("carbon-trekking-poles", "Carbon Trekking Poles", 7900),
    ("waterproof-overtrousers", "Waterproof Overtrousers", 6400),
]
PRODUCT = {slug: (name, price) for slug, name, price in PRODUCTS}
REVIEWS = [
    ("Kept me dry on a very wet weekend in Snowdonia.", "Priya S."),
    ("Sizing runs a little small, order one up.", "Tom H."),
    ("Light, packs down small, and the pockets are well placed.", "Marta K."),
    ("Great value. Delivery took four days.", "Jon B."),
    ("Second one I have bought, the first lasted years.", "Lena W."),
    ("Zip feels a bit flimsy but otherwise excellent.", "Sam R."),
]
FAQ = [
    ("Where is my order?", "Orders leave our warehouse within two working days. You will get an "
                           "e-mail with a tracking link as soon as your parcel is on its way."),
    ("How do I return an item?", "You can return unworn items within 60 days. Start a return "
                                 "from Your orders and print the free label."),
    ("Do you ship abroad?", "We ship to the UK, the EU and the United States. Duties are "
                            "included at checkout."),
    ("How does Fernhill Pay Later work?", "Spread the cost over three months, interest free, "
                                          "subject to a quick eligibility check."),
]
CSS = ("*{box-sizing:border-box}body{margin:0;font:16px/1.5 'Inter',system-ui,sans-serif;"
       "color:#1d2a22;background:#fbfaf7}.site-header{display:flex;align-items:center;gap:24px;"
       "padding:12px 32px;background:#24412f;color:#fff}.site-header a{color:#fff;"
       "text-decoration:none}.nav ul{display:flex;gap:18px;list-style:none;margin:0;padding:0}"
       ".badge{display:inline-block;min-width:20px;border-radius:10px;background:#e2a33b;"
       "text-align:center}main{max-width:1120px;margin:0 auto;padding:24px 32px}.products{"
       "display:grid;grid-template-columns:repeat(4,1fr);gap:20px;list-style:none;padding:0}"
       ".card img{width:100%;border-radius:6px}.price{font-weight:600}.button,button{"
       "border:0;border-radius:6px;padding:10px 18px;background:#24412f;color:#fff;"
       "cursor:pointer}.button.secondary{background:#e9e4da;color:#24412f}.field{display:flex;"
       "flex-direction:column;margin:0 0 14px}.field label{font-size:14px;font-weight:600}"
       ".field input,.field select,.field textarea{padding:9px 10px;border:1px solid #b9b3a6;"
       "border-radius:5px}.error{color:#b3261e}.toast{position:fixed;right:24px;bottom:24px;"
       "padding:12px 16px;background:#1d2a22;color:#fff;border-radius:6px}.cookie-banner{"
       "position:fixed;left:0;right:0;bottom:0;padding:16px 32px;background:#fff;"
       "box-shadow:0 -2px 12px rgba(0,0,0,.15)}.chat{position:fixed;right:24px;bottom:24px;"
       "width:320px;background:#fff;border-radius:8px;box-shadow:0 4px 18px rgba(0,0,0,.2)}"
       ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden}"
       "footer{padding:32px;background:#e9e4da;font-size:14px}")


def money(pence: int) -> str:
    return f"£{pence // 100}.{pence % 100:02d}"


def instant(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time with offset."""
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def iso(ms: int, offset_hours: int) -> str:
    zone = timezone(timedelta(hours=offset_hours))
    return datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="milliseconds")


# -- a live DOM ------------------------------------------------------------------------------

class Css(str):
    """Text of a <style> element (rrweb marks it ``isStyle``)."""


@dataclass
class El:
    tag: str
    attrs: dict
    children: list
    ref: str | None = None


def h(tag: str, attrs: dict | None = None, *children: object, ref: str | None = None) -> El:
    flat: list = []
    for child in children:
        if isinstance(child, list | tuple):
            flat.extend(c for c in child if c is not None)
        elif child is not None:
            flat.append(child)
    return El(tag, dict(attrs or {}), flat, ref)


def spaced(items: list) -> list:
    """Children separated by the whitespace text nodes a real page has between tags."""
    out: list = []
    for item in items:
        out += ["\n      ", item]
    return [*out, "\n    "] if out else out


class Dom:
    """The page as the recorder sees it: node ids, parents, children, attributes, text.

    Mutations are made through it so every id an event names is a live node.
    """

    def __init__(self) -> None:
        self.nodes: dict[int, dict] = {}
        self.refs: dict[str, int] = {}
        self.next_id = 1
        self.doc = self._new({"kind": "doc"}, None)
        self._new({"kind": "doctype"}, self.doc)

    def _new(self, node: dict, parent: int | None, before: int | None = None) -> int:
        nid = self.next_id
        self.next_id += 1
        node.update(id=nid, parent=parent, children=[])
        self.nodes[nid] = node
        if parent is not None:
            siblings = self.nodes[parent]["children"]
            siblings.insert(siblings.index(before) if before else len(siblings), nid)
        return nid

    def build(self, spec: El | str, parent: int, before: int | None = None) -> int:
        if isinstance(spec, str):
            return self._new({"kind": "text", "text": str(spec),
                              "style": isinstance(spec, Css)}, parent, before)
        nid = self._new({"kind": "el", "tag": spec.tag, "attrs": dict(spec.attrs)}, parent, before)
        if spec.ref:
            self.refs[spec.ref] = nid
        for child in spec.children:
            self.build(child, nid)
        return nid

    def serialize(self, nid: int | None = None, deep: bool = True) -> dict:
        node = self.nodes[self.doc if nid is None else nid]
        kind = node["kind"]
        if kind == "doctype":
            return {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": node["id"]}
        if kind == "text":
            out = {"type": 3, "textContent": node["text"], "id": node["id"]}
            if node["style"]:
                out["isStyle"] = True
            return out
        if kind == "doc":
            out = {"type": 0, "childNodes": [], "id": node["id"]}
        else:
            out = {"type": 2, "tagName": node["tag"], "attributes": dict(node["attrs"]),
                   "childNodes": [], "id": node["id"]}
        if deep:
            out["childNodes"] = [self.serialize(child) for child in node["children"]]
        return out

    def attach(self, spec: El, parent: int, before: int | None = None) -> tuple[int, list]:
        """Insert a subtree; returns its root and rrweb ``adds`` (parents first, and each
        child's ``nextId`` already present)."""
        root = self.build(spec, parent, before)
        adds: list = []

        def visit(nid: int, next_id: int | None) -> None:
            node = self.nodes[nid]
            adds.append({"parentId": node["parent"], "nextId": next_id,
                         "node": self.serialize(nid, deep=False)})
            kids = node["children"]
            for i in range(len(kids) - 1, -1, -1):
                visit(kids[i], kids[i + 1] if i + 1 < len(kids) else None)

        visit(root, before)
        return root, adds

    def detach(self, nid: int) -> dict:
        parent = self.nodes[nid]["parent"]
        self.nodes[parent]["children"].remove(nid)
        stack = [nid]
        while stack:
            current = stack.pop()
            stack.extend(self.nodes[current]["children"])
            del self.nodes[current]
        for name in [name for name, ref in self.refs.items() if ref not in self.nodes]:
            del self.refs[name]
        return {"parentId": parent, "id": nid}

    def text_of(self, nid: int) -> int:
        """The first text node under an element."""
        for child in self.nodes[nid]["children"]:
            if self.nodes[child]["kind"] == "text":
                return child
        raise KeyError(f"element {nid} has no text node")

    def body_elements(self) -> list[int]:
        body = self.refs["body"]
        out, stack = [], [body]
        while stack:
            nid = stack.pop()
            node = self.nodes[nid]
            if node["kind"] == "el":
                out.append(nid)
                stack.extend(reversed(node["children"]))
        return out


# -- the pages of the shop -------------------------------------------------------------------

@dataclass
class Visitor:
    """What the pages show to the person browsing."""

    person: Person
    signed_in: bool
    banner: bool = False
    basket: list = field(default_factory=list)


@dataclass
class Page:
    title: str
    dom: Dom
    pii: set  # kinds of personal data in the snapshot itself


def field_row(ref: str, label: str, attrs: dict, *, kind: str = "input") -> El:
    """A labelled form control; ``ref`` doubles as the element id."""
    control = h(kind, {"id": ref, **attrs}, ref=ref)
    if kind == "textarea":
        control.children.append("")
    return h("div", {"class": "field"}, h("label", {"for": ref}, label), control)


def checkbox_row(ref: str, label: str, checked: bool = False) -> El:
    attrs = {"id": ref, "type": "checkbox", "name": ref}
    if checked:
        attrs["checked"] = True
    return h("div", {"class": "field checkbox"}, h("input", attrs, ref=ref),
             h("label", {"for": ref}, label))


def select_row(ref: str, label: str, options: list[str], chosen: str | None = None) -> El:
    opts = []
    for option in options:
        attrs = {"value": option}
        if option == chosen:
            attrs["selected"] = True
        opts.append(h("option", attrs, option))
    return h("div", {"class": "field"}, h("label", {"for": ref}, label),
             h("select", {"id": ref, "name": ref}, *spaced(opts), ref=ref))


def product_card(slug: str) -> El:
    name, price = PRODUCT[slug]
    return h("li", {"class": "card", "data-sku": slug},
             h("a", {"href": f"/products/{slug}"}, h("img", {
                 "src": f"/static/img/products/{slug}-1.webp", "alt": name, "width": "280",
                 "height": "280", "loading": "lazy"}), ref=f"product:{slug}"),
             h("h3", {}, name), h("p", {"class": "price"}, money(price)),
             h("button", {"class": "add", "type": "button", "data-sku": slug}, "Add to basket",
               ref=f"add:{slug}"))


def chrome(visitor: Visitor, title: str, body_class: str, main: list) -> Dom:
    """The shared page frame: head, header with navigation and search, footer."""
    nav = [h("li", {}, h("a", {"href": href}, label, ref=f"nav:{label.lower()}"))
           for label, href in (("Women", "/c/women"), ("Men", "/c/men"),
                               ("Footwear", "/c/footwear"), ("Camping", "/c/camping"),
                               ("Sale", "/c/sale"), ("Help", "/support"))]
    account = (f"Hi, {visitor.person.first_name}" if visitor.signed_in else "Sign in")
    head = h("head", {},
             "\n    ", h("meta", {"charset": "utf-8"}),
             "\n    ", h("meta", {"name": "viewport",
                                  "content": "width=device-width, initial-scale=1"}),
             "\n    ", h("title", {}, title),
             "\n    ", h("link", {"rel": "stylesheet", "href": SITE + CSS_PATH,
                                  "_cssText": CSS}),
             "\n    ", h("style", {}, Css(".skip-link{position:absolute;left:-999px}"
                                          ".skip-link:focus{left:8px;top:8px}")),
             "\n    ", h("script", {"src": SITE + VENDOR_JS, "defer": ""}),
             "\n    ", h("script", {"src": SITE + JS_PATH, "defer": ""}),
             "\n    ", h("script", {"src": ANALYTICS_JS, "async": ""}), "\n  ")
    header = h("header", {"class": "site-header"},
               h("a", {"class": "skip-link", "href": "#content"}, "Skip to content"),
               h("a", {"class": "logo", "href": "/"}, h("img", {
                   "src": "/static/img/fernhill-logo.svg", "alt": "Fernhill Outdoor",
                   "width": "148", "height": "36"}), ref="logo"),
               h("nav", {"class": "nav", "aria-label": "Main"}, h("ul", {}, *spaced(nav))),
               h("form", {"class": "search", "role": "search", "action": "/search"},
                 h("label", {"for": "q", "class": "visually-hidden"}, "Search"),
                 h("input", {"id": "q", "type": "search", "name": "q",
                             "placeholder": "Search jackets, tents, boots…"}, ref="q"),
                 h("button", {"type": "submit"}, "Search", ref="search-go")),
               h("a", {"class": "account", "href": "/account"}, account, ref="account"),
               h("a", {"class": "basket", "href": "/cart"}, "Basket ",
                 h("span", {"class": "badge", "aria-live": "polite"},
                   str(len(visitor.basket)), ref="badge"), ref="basket"))
    columns = []
    for heading, links in (("Shop", ("New in", "Bestsellers", "Gift cards")),
                           ("Help", ("Delivery", "Returns", "Size guide", "Contact us")),
                           ("About", ("Our story", "Sustainability", "Careers"))):
        columns.append(h("section", {}, h("h4", {}, heading), h("ul", {}, *spaced([
            h("li", {}, h("a", {"href": "/pages/" + link.lower().replace(" ", "-")}, link))
            for link in links]))))
    footer = h("footer", {}, h("div", {"class": "cols"}, *columns),
               h("p", {"class": "small"}, "© 2024 Fernhill Outdoor Ltd. Registered in England "
                                          "and Wales. Prices include VAT."),
               h("a", {"href": "/account/privacy"}, "Privacy settings", ref="footer-privacy"))
    banner = None
    if visitor.banner:
        banner = h("div", {"class": "cookie-banner", "role": "dialog",
                           "aria-label": "Cookies and recordings"},
                   h("p", {}, "We use cookies to run the shop, measure visits and, with your "
                              "permission, record sessions to improve the site."),
                   h("button", {"type": "button", "class": "button"}, "Accept all",
                     ref="banner-accept"),
                   h("button", {"type": "button", "class": "button secondary"},
                     "Reject advertising", ref="banner-reject-ads"),
                   h("button", {"type": "button", "class": "button secondary"},
                     "Reject analytics", ref="banner-reject-analytics"),
                   h("button", {"type": "button", "class": "button secondary"}, "Reject all",
                     ref="banner-reject-all"), ref="banner")
    body = h("body", {"class": body_class}, "\n  ", header, "\n  ",
             h("main", {"id": "content"}, *main, ref="main"), "\n  ", footer, "\n  ", banner,
             ref="body")
    dom = Dom()
    dom.build(h("html", {"lang": "en-GB"}, "\n  ", head, "\n  ", body), dom.doc)
    return dom


def page_home(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    picks = rng.sample([slug for slug, _, _ in PRODUCTS], 8)
    main = [h("section", {"class": "hero"},
              h("img", {"src": "/static/img/hero-spring-2024.webp", "alt": "Walkers on a ridge",
                        "width": "1120", "height": "420"}),
              h("h1", {}, "Built for the long way round"),
              h("p", {}, "New season layers, boots and shelters, tested in the wettest corners "
                         "of the Lake District."),
              h("a", {"class": "button", "href": "/c/new-in"}, "Shop new season", ref="hero-cta")),
            h("section", {"class": "bestsellers"}, h("h2", {}, "Bestsellers"),
              h("ul", {"class": "products"}, *spaced([product_card(s) for s in picks]))),
            h("section", {"class": "promise"}, h("h2", {}, "The Fernhill promise"),
              h("p", {}, "Free delivery over £50, free returns for 60 days, and repairs for "
                         "the life of the product."))]
    return "Fernhill Outdoor — clothing and kit for the hills", main, set()


def page_search(v: Visitor, rng: random.Random, query: str) -> tuple[str, list, set]:
    words = query.lower().split()
    hits = [slug for slug, name, _ in PRODUCTS if any(w[:5] in name.lower() for w in words)]
    hits = hits or rng.sample([slug for slug, _, _ in PRODUCTS], 3)
    main = [h("h1", {}, f"Results for “{query}”"),
            h("p", {"class": "count"}, f"{len(hits)} products"),
            h("ul", {"class": "products"}, *spaced([product_card(s) for s in hits]))]
    return f"Search: {query} — Fernhill Outdoor", main, set()


def page_product(v: Visitor, rng: random.Random, slug: str) -> tuple[str, list, set]:
    name, price = PRODUCT[slug]
    reviews = rng.sample(REVIEWS, 3)
    main = [h("nav", {"class": "breadcrumb"}, h("a", {"href": "/"}, "Home"), " / ",
              h("a", {"href": "/c/new-in"}, "New in"), " / ", h("span", {}, name)),
            h("div", {"class": "gallery"}, *[h("img", {
                "src": f"/static/img/products/{slug}-{i}.webp", "alt": f"{name}, view {i}",
                "width": "560", "height": "560"}, ref=f"img{i}") for i in (1, 2, 3)]),
            h("div", {"class": "info"}, h("h1", {}, name),
              h("p", {"class": "price"}, money(price)),
              h("form", {"class": "add-form"},
                select_row("size", "Size", ["XS", "S", "M", "L", "XL"]),
                h("fieldset", {}, h("legend", {}, "Colour"), *[
                    h("span", {}, h("input", {"type": "radio", "name": "colour", "id": f"c-{c}",
                                              "value": c}, ref=f"colour:{c}"),
                      h("label", {"for": f"c-{c}"}, c.title()))
                    for c in ("moss", "slate", "ember")]),
                field_row("qty", "Quantity", {"type": "number", "name": "qty", "value": "1",
                                              "min": "1"}),
                h("button", {"type": "button", "id": "add"}, "Add to basket", ref="add")),
              h("details", {}, h("summary", {}, "Description", ref="desc"),
                h("p", {}, "Made from recycled fabrics with a PFC-free water-repellent finish. "
                           "Fully seam-sealed, with adjustable cuffs and a helmet-compatible "
                           "hood."))),
            h("section", {"class": "reviews"}, h("h2", {}, "Reviews"), h("ul", {}, *spaced([
                h("li", {}, h("p", {}, text), h("span", {"class": "author"}, author))
                for text, author in reviews])))]
    return f"{name} — Fernhill Outdoor", main, set()


def page_cart(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    rows, total = [], 0
    for index, slug in enumerate(v.basket):
        name, price = PRODUCT[slug]
        total += price
        rows.append(h("tr", {"data-sku": slug}, h("td", {}, name),
                      h("td", {}, h("input", {"type": "number", "value": "1", "min": "0",
                                              "aria-label": f"Quantity of {name}"},
                                    ref=f"line-qty:{index}")),
                      h("td", {}, money(price)),
                      h("td", {}, h("button", {"type": "button", "class": "remove"}, "Remove",
                                    ref=f"remove:{index}"))))
    main = [h("h1", {}, "Your basket"),
            h("table", {"class": "cart"}, h("thead", {}, h("tr", {}, *[
                h("th", {}, label) for label in ("Item", "Quantity", "Price", "")])),
              h("tbody", {}, *spaced(rows), ref="cart-rows")),
            h("p", {"class": "subtotal"}, "Subtotal: ", h("strong", {}, money(total),
                                                           ref="subtotal")),
            h("a", {"class": "button", "href": "/checkout"}, "Go to checkout", ref="to-checkout")]
    return "Basket — Fernhill Outdoor", main, set()


def page_checkout(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    total = sum(PRODUCT[slug][1] for slug in v.basket)
    main = [h("h1", {}, "Checkout"),
            h("form", {"id": "checkout", "novalidate": ""},
              h("fieldset", {}, h("legend", {}, "Contact"),
                field_row("email", "Email address", {"type": "email", "name": "email",
                                                     "autocomplete": "email"}),
                field_row("phone", "Phone (for delivery updates)", {
                    "type": "tel", "name": "phone", "autocomplete": "tel"}),
                checkbox_row("offers", "Send me offers and new arrivals")),
              h("fieldset", {}, h("legend", {}, "Delivery address"),
                field_row("fullname", "Full name", {"type": "text", "name": "fullname",
                                                    "autocomplete": "name"}),
                field_row("street", "Street address", {"type": "text", "name": "street",
                                                       "autocomplete": "address-line1"}),
                field_row("city", "Town or city", {"type": "text", "name": "city",
                                                   "autocomplete": "address-level2"}),
                field_row("postcode", "Postcode / ZIP", {"type": "text", "name": "postcode",
                                                         "autocomplete": "postal-code"}),
                select_row("country", "Country", ["United Kingdom", "Germany", "France",
                                                  "United States"], "United Kingdom")),
              h("fieldset", {"class": "payment"}, h("legend", {}, "Payment"),
                h("p", {}, "Card payments are encrypted and processed by our bank."),
                field_row("cc-number", "Card number", {
                    "type": "text", "name": "cardnumber", "inputmode": "numeric",
                    "autocomplete": "cc-number", "placeholder": "1234 1234 1234 1234"}),
                field_row("cc-exp", "Expiry (MM/YY)", {"type": "text", "name": "cc-exp",
                                                       "autocomplete": "cc-exp"}),
                field_row("cc-csc", "Security code", {"type": "text", "name": "cvc",
                                                      "inputmode": "numeric",
                                                      "autocomplete": "cc-csc"}),
                field_row("cc-name", "Name on card", {"type": "text", "name": "cc-name",
                                                      "autocomplete": "cc-name"}),
                checkbox_row("save-card", "Save this card for next time")),
              h("p", {"class": "error", "role": "alert"}, "", ref="checkout-error"),
              h("button", {"type": "submit", "id": "pay"}, f"Pay {money(total)}", ref="pay"))]
    return "Checkout — Fernhill Outdoor", main, set()


def page_confirmation(v: Visitor, rng: random.Random, order: str) -> tuple[str, list, set]:
    person = v.person
    main = [h("h1", {}, f"Thank you, {person.first_name}!"),
            h("p", {}, f"Order {order} is confirmed. A receipt is on its way to {person.email}."),
            h("p", {}, "We will text delivery updates to ", h("span", {}, person.phone), "."),
            h("a", {"class": "button", "href": "/account/orders"}, "Track your order",
              ref="track")]
    return "Order confirmed — Fernhill Outdoor", main, {"email", "phone"}


def page_login(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    main = [h("h1", {}, "Sign in"),
            h("form", {"id": "login", "action": "/account/login", "method": "post"},
              field_row("login-email", "Email address", {"type": "email", "name": "email",
                                                         "autocomplete": "username"}),
              field_row("login-password", "Password", {"type": "password", "name": "password",
                                                       "autocomplete": "current-password"}),
              checkbox_row("remember", "Keep me signed in"),
              h("button", {"type": "submit"}, "Sign in", ref="login-go"),
              h("a", {"href": "/account/reset"}, "Forgot your password?")),
            h("p", {}, "New here? ", h("a", {"href": "/account/register"}, "Create an account"))]
    return "Sign in — Fernhill Outdoor", main, set()


def page_account(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    person = v.person
    street, city, postcode, country = person.address
    main = [h("h1", {}, "Your account"),
            h("section", {"class": "profile"}, h("h2", {}, "Your details"), h("dl", {},
              h("dt", {}, "Name"), h("dd", {}, person.full_name),
              h("dt", {}, "Email"), h("dd", {}, person.email),
              h("dt", {}, "Phone"), h("dd", {}, person.phone),
              h("dt", {}, "Delivery address"),
              h("dd", {}, f"{street}, {city} {postcode}, {country}"))),
            h("nav", {"class": "account-links"}, h("ul", {}, *spaced([
                h("li", {}, h("a", {"href": "/account/orders"}, "Your orders", ref="orders")),
                h("li", {}, h("a", {"href": "/account/credit-application"},
                              "Apply for Fernhill Pay Later", ref="credit")),
                h("li", {}, h("a", {"href": "/account/privacy"}, "Privacy settings",
                              ref="privacy"))]))),
            h("p", {}, h("a", {"href": "/account/logout"}, "Sign out"))]
    return "Your account — Fernhill Outdoor", main, {"email", "phone"}


def page_orders(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    rows = []
    for order, date, status, slug in (("FH-48213", "12 Mar 2024", "Dispatched",
                                       "ridgeline-trail-jacket"),
                                      ("FH-45907", "2 Feb 2024", "Delivered", "daypack-22"),
                                      ("FH-41376", "9 Dec 2023", "Delivered", "summit-fleece")):
        rows.append(h("tr", {}, h("td", {}, h("a", {"href": f"/account/orders/{order}"}, order,
                                                ref=f"order:{order}")),
                      h("td", {}, date), h("td", {}, status), h("td", {}, PRODUCT[slug][0])))
    main = [h("h1", {}, "Your orders"),
            h("table", {"class": "orders"}, h("thead", {}, h("tr", {}, *[
                h("th", {}, label) for label in ("Order", "Placed", "Status", "Items")])),
              h("tbody", {}, *spaced(rows)))]
    return "Your orders — Fernhill Outdoor", main, set()


def page_credit(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    person = v.person
    id_name = "ssn" if person.national_id_label.startswith("Social") else "national_insurance"
    main = [h("h1", {}, "Fernhill Pay Later — application"),
            h("p", {}, "Spread the cost of your order over three months, interest free. We "
                       "need a few details to check your eligibility."),
            h("form", {"id": "credit"},
              field_row("credit-name", "Full legal name", {"type": "text", "name": "legal_name",
                                                           "autocomplete": "name"}),
              field_row("national-id", person.national_id_label or "National identity number",
                        {"type": "text", "name": id_name, "autocomplete": "off"}),
              field_row("credit-phone", "Mobile phone", {"type": "tel", "name": "phone",
                                                         "autocomplete": "tel"}),
              field_row("iban", "Bank account (IBAN) for repayments", {
                  "type": "text", "name": "iban", "autocomplete": "off"}),
              checkbox_row("agree", "I agree to a soft credit check"),
              field_row("credit-password", "Confirm with your password", {
                  "type": "password", "name": "password", "autocomplete": "current-password"}),
              h("button", {"type": "submit"}, "Submit application", ref="credit-go")),
            h("div", {"class": "notices", "aria-live": "polite"}, ref="notices")]
    return "Fernhill Pay Later — Fernhill Outdoor", main, set()


def page_privacy(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    main = [h("h1", {}, "Privacy settings"),
            h("p", {}, "Choose what we may collect while you use the shop. You can change this "
                       "at any time."),
            h("form", {"id": "privacy"},
              checkbox_row("pref-recording", "Session recording — lets us replay visits to "
                                             "find problems", checked=True),
              checkbox_row("pref-analytics", "Analytics — counts visits and clicks",
                           checked=True),
              checkbox_row("pref-marketing", "Marketing e-mails and personalised offers"),
              h("button", {"type": "button", "id": "save-privacy"}, "Save preferences",
                ref="save-privacy")),
            h("div", {"id": "privacy-status", "aria-live": "polite"}, ref="privacy-status")]
    return "Privacy settings — Fernhill Outdoor", main, set()


def page_support(v: Visitor, rng: random.Random) -> tuple[str, list, set]:
    faq = [h("details", {}, h("summary", {}, q, ref=f"faq:{i}"), h("p", {}, a))
           for i, (q, a) in enumerate(FAQ)]
    main = [h("h1", {}, "Help & contact"),
            h("section", {"class": "faq"}, h("h2", {}, "Common questions"), *spaced(faq)),
            h("section", {"class": "contact"}, h("h2", {}, "Send us a message"),
              h("form", {"id": "contact"},
                field_row("contact-name", "Your name", {"type": "text", "name": "name",
                                                        "autocomplete": "name"}),
                field_row("contact-email", "Email address", {"type": "email", "name": "email",
                                                             "autocomplete": "email"}),
                field_row("contact-phone", "Phone (optional)", {"type": "tel", "name": "phone",
                                                                "autocomplete": "tel"}),
                field_row("contact-order", "Order number", {"type": "text", "name": "order"}),
                select_row("contact-topic", "Topic", ["Delivery", "Returns", "Product question",
                                                      "Payment", "Something else"]),
                field_row("contact-message", "Message", {"name": "message", "rows": "5"},
                          kind="textarea"),
                h("button", {"type": "submit"}, "Send message", ref="contact-go")),
              ref="contact"),
            h("aside", {"class": "chat", "aria-label": "Chat"},
              h("div", {"class": "chat-header"}, "Chat with us",
                h("button", {"type": "button", "aria-expanded": "false"}, "Open",
                  ref="chat-open")),
              h("ul", {"class": "chat-log", "hidden": ""}, ref="chat-log"),
              h("form", {"class": "chat-form", "hidden": ""},
                h("label", {"for": "chat-input", "class": "visually-hidden"}, "Message"),
                h("input", {"id": "chat-input", "type": "text", "name": "chat",
                            "placeholder": "Type a message"}, ref="chat-input"),
                h("button", {"type": "submit"}, "Send", ref="chat-send"), ref="chat-form"))]
    return "Help & contact — Fernhill Outdoor", main, set()


PAGES: dict[str, Callable[..., tuple[str, list, set]]] = {
    "home": page_home, "search": page_search, "product": page_product, "cart": page_cart,
    "checkout": page_checkout, "confirmation": page_confirmation, "login": page_login,
    "account": page_account, "orders": page_orders, "credit": page_credit,
    "privacy": page_privacy, "support": page_support,
}


# -- a recording ------------------------------------------------------------------------------

@dataclass
class Label:
    """The plan's verdict on one event."""

    state: str  # flagged | clear | undetermined
    pii: set


class Recording:
    """One session being recorded: the events, and the plan's label for each.

    ``opted_out`` is the plan: the session script sets it where the person's opt-out begins or
    ends (see :meth:`consent_changes`), and every event written while it is true is labelled
    flagged. Mouse and touch positions never reach back before the last change, so a batch
    never straddles one unless a script plants it on purpose.
    """

    def __init__(self, seed: str, person: Person, start: int, *, touch: bool,
                 width: int, height: int, signed_in: bool, banner: bool = False,
                 opted_out: bool = False) -> None:
        self.rng = random.Random(seed)
        self.person = person
        self.visitor = Visitor(person, signed_in, banner)
        self.touch = touch
        self.width, self.height = width, height
        self.t = start
        self.floor = start  # no pointer position may be earlier than this
        self.opted_out = opted_out
        self.events: list[dict] = []
        self.labels: list[Label] = []
        self.notes: list[str] = []
        self.last_ts = 0
        self.page: Page | None = None
        self.loaded_at = start
        self.x, self.y = width // 2, height // 3
        self.scroll_y = 0
        self.focused: int | None = None
        self.values: dict[int, str] = {}
        self._boxes: dict[int, tuple[int, int]] = {}

    # -- writing events ---------------------------------------------------------------
    def emit(self, kind: int, data: dict, *, pii: set | tuple = (), at: int | None = None,
             flagged: bool | None = None, timestamp: bool = True) -> int:
        event: dict = {"type": kind, "data": data}
        if timestamp:
            ts = self.t if at is None else at
            if ts < self.last_ts:
                raise AssertionError(f"events out of order at {ts}")
            self.last_ts = ts
            event["timestamp"] = ts
            state = "flagged" if (self.opted_out if flagged is None else flagged) else "clear"
        else:
            state = "undetermined"
        self.events.append(event)
        self.labels.append(Label(state, set(pii)))
        return len(self.events) - 1

    def note(self, text: str, seq: int | None = None) -> None:
        self.notes.append(text if seq is None else f"seq {seq}: {text}")

    def consent_changes(self, at: int, opted_out: bool) -> None:
        """The plan: from ``at`` on the person is (or no longer is) opted out."""
        if at <= self.last_ts:
            raise AssertionError("a consent change must come after the events before it")
        self.t = max(self.t, at)
        self.floor = at
        self.opted_out = opted_out

    def wait(self, low: int, high: int) -> None:
        self.t += self.rng.randint(low, high)

    # -- the page ---------------------------------------------------------------------
    @property
    def dom(self) -> Dom:
        assert self.page is not None
        return self.page.dom

    def ref(self, name: str) -> int:
        return self.dom.refs[name]

    def box(self, nid: int) -> tuple[int, int]:
        if nid not in self._boxes:
            self._boxes[nid] = (self.rng.randint(40, self.width - 40),
                                self.rng.randint(60, self.height - 40))
        return self._boxes[nid]

    def go(self, page: str, path: str, *, url_pii: set | tuple = (), **args: object) -> None:
        """A full page load: Meta, FullSnapshot, the $pageview event and the page's requests."""
        self.wait(250, 900)
        title, main, pii = PAGES[page](self.visitor, self.rng, **args)
        dom = chrome(self.visitor, title, f"page-{page}", main)
        self.page = Page(title, dom, pii)
        self._boxes = {}
        self.values = {}
        self.focused = None
        self.scroll_y = 0
        self.loaded_at = self.t
        self.floor = max(self.floor, self.t)
        url = SITE + path
        self.emit(4, {"href": url, "width": self.width, "height": self.height}, pii=url_pii)
        self.wait(8, 40)
        self.emit(2, {"node": dom.serialize(), "initialOffset": {"left": 0, "top": 0}},
                  pii=pii)
        self.wait(5, 30)
        self.emit(5, {"tag": "$pageview", "payload": {"href": url, "title": title}},
                  pii=url_pii)
        self.wait(300, 900)
        assets = [(SITE + CSS_PATH, "link"), (SITE + VENDOR_JS, "script"),
                  (SITE + JS_PATH, "script"), (ANALYTICS_JS, "script"),
                  (SITE + "/static/img/fernhill-logo.svg", "img")]
        images = [node["attrs"]["src"] for node in dom.nodes.values()
                  if node["kind"] == "el" and node["tag"] == "img"
                  and node["attrs"]["src"].startswith("/static/img/products/")]
        assets += [(SITE + src, "img") for src in images[:4]]
        self.network([self.request(url, initiator, "GET", None, None, stagger=index * 7)
                      for index, (url, initiator) in enumerate(assets)])
        self.look_around()

    def look_around(self) -> None:
        """What people do on a fresh page before acting: look, point, scroll a little."""
        if self.touch:
            for _ in range(self.rng.randint(1, 3)):
                self.scroll(self.rng.choice((-1, 1, 1)) * self.rng.randint(120, 600))
                self.wait(800, 4000)
        else:
            self.wander(self.rng.randint(3, 8))

    # -- pointer ------------------------------------------------------------------------
    def _flush(self, positions: list, source: int) -> None:
        stamp = positions[-1][3] + self.rng.randint(0, 30)
        self.t = stamp
        self.emit(3, {"source": source, "positions": [
            {"x": x, "y": y, "id": nid, "timeOffset": at - stamp} for x, y, nid, at in positions]})

    def pointer_path(self, target: int, steps: int | None = None) -> None:
        """The pointer travels to ``target``, sampled every ~50 ms, flushed every ~500 ms."""
        tx, ty = self.box(target)
        steps = steps or self.rng.randint(8, 40)
        hover = self.dom.body_elements()
        sx, sy = self.x, self.y
        batch: list = []
        start = self.t = max(self.t, self.floor)
        for i in range(1, steps + 1):
            self.t += self.rng.randint(35, 70)
            f = i / steps
            x = min(self.width - 1, max(0, round(sx + (tx - sx) * f + self.rng.randint(-6, 6))))
            y = min(self.height - 1, max(0, round(sy + (ty - sy) * f + self.rng.randint(-6, 6))))
            nid = target if i == steps else self.rng.choice(hover)
            batch.append((x, y, nid, self.t))
            if self.t - start >= 480 or i == steps:
                self._flush(batch, 1)
                batch, start = [], self.t
        self.x, self.y = tx, ty

    def wander(self, moves: int) -> None:
        """Idle pointer movement while reading (nothing on a touch screen)."""
        for _ in range(moves):
            self.wait(600, 3500)
            if not self.touch:
                self.pointer_path(self.rng.choice(self.dom.body_elements()))

    def scroll(self, dy: int) -> None:
        """Scroll the page by ``dy`` pixels in steps (a swipe on a touch screen)."""
        target = max(0, self.scroll_y + dy)
        steps = self.rng.randint(3, 7)
        if self.touch:
            self.wait(300, 900)
            self.t = max(self.t, self.floor)
            x, y = self.rng.randint(80, self.width - 80), self.rng.randint(300, self.height - 80)
            swipe = []
            for i in range(6):
                self.t += self.rng.randint(14, 24)
                swipe.append((x + self.rng.randint(-3, 3), y - (dy * i) // 24, self.ref("main"),
                              self.t))
            self._flush(swipe, 6)
        for i in range(1, steps + 1):
            self.t += self.rng.randint(60, 140)
            y = self.scroll_y + (target - self.scroll_y) * i // steps
            self.emit(3, {"source": 3, "id": self.dom.doc, "x": 0, "y": y})
        self.scroll_y = target

    def read(self, total: int) -> None:
        """Read down a page: scroll a little, pause, move the pointer."""
        done = 0
        while done < total:
            step = self.rng.randint(180, 520)
            self.scroll(step)
            done += step
            self.wander(self.rng.randint(1, 3))

    def interact(self, kind: int, nid: int, *, at_xy: bool = True,
                     at: int | None = None, flagged: bool | None = None) -> int:
        data = {"source": 2, "type": kind, "id": nid}
        if at_xy:
            data.update(x=self.x, y=self.y, pointerType=2 if self.touch else 0)
        return self.emit(3, data, at=at, flagged=flagged)

    def press(self, name: str, *, focus: bool = False) -> None:
        """Everything up to the button going down; :meth:`release` finishes the click."""
        nid = self.ref(name)
        if self.focused is not None and self.focused != nid and self.focused in self.dom.nodes:
            self.wait(5, 20)
            self.interact(6, self.focused, at_xy=False)  # Blur
            self.focused = None
        if self.touch:
            self.wait(500, 1500)
            self.x, self.y = self.box(nid)
            self.interact(7, nid)  # TouchStart
        else:
            self.pointer_path(nid)
            self.wait(60, 250)
            self.interact(1, nid)  # MouseDown
        if focus:
            self.wait(1, 6)
            self.interact(5, nid, at_xy=False)  # Focus
            self.focused = nid

    def release(self, name: str, *, at: int | None = None) -> int:
        """Button up, then the click; returns the click's seq."""
        nid = self.ref(name)
        self.wait(50, 130)
        self.interact(9 if self.touch else 0, nid)  # TouchEnd / MouseUp
        self.t = at if at is not None else self.t + self.rng.randint(1, 8)
        return self.interact(2, nid)  # Click

    def click(self, name: str, *, focus: bool = False) -> int:
        self.press(name, focus=focus)
        return self.release(name)

    def type_into(self, name: str, text: str, *, pii: set | tuple = (),
                  fast: bool = False) -> None:
        """Typing, one Input event per keystroke with the value so far; a few typos fixed.

        ``pii`` is what the finished value is (partial values of the same text add nothing
        to the session's set of kinds).
        """
        nid = self.ref(name)
        self.wait(300, 1400)
        self.click(name, focus=True)
        value = self.values.get(nid, "")
        low, high = (45, 140) if fast else (90, 260)
        for index, char in enumerate(text):
            if char.isalpha() and index > 2 and self.rng.random() < 0.04:
                self.wait(low, high)
                value += self.rng.choice("qwertyuiopasdfghjkl")
                self.emit(3, {"source": 5, "text": value, "isChecked": False, "id": nid,
                              "userTriggered": True})
                self.wait(180, 420)
                value = value[:-1]
                self.emit(3, {"source": 5, "text": value, "isChecked": False, "id": nid,
                              "userTriggered": True})
            self.wait(low, high)
            value += char
            last = index == len(text) - 1
            self.emit(3, {"source": 5, "text": value, "isChecked": False, "id": nid,
                          "userTriggered": True}, pii=pii if last else ())
        self.values[nid] = value

    def tick(self, name: str, checked: bool) -> None:
        nid = self.ref(name)
        self.click(name)
        self.wait(1, 5)
        self.emit(3, {"source": 5, "text": "on", "isChecked": checked, "id": nid,
                      "userTriggered": True})

    def choose(self, name: str, option: str) -> None:
        nid = self.ref(name)
        self.click(name, focus=True)
        self.wait(600, 1800)
        self.emit(3, {"source": 5, "text": option, "isChecked": False, "id": nid,
                      "userTriggered": True})

    # -- page changes -------------------------------------------------------------------
    def mutation(self, *, texts: list | None = None, attributes: list | None = None,
                 removes: list | None = None, adds: list | None = None,
                 pii: set | tuple = ()) -> int:
        return self.emit(3, {"source": 0, "texts": texts or [], "attributes": attributes or [],
                             "removes": removes or [], "adds": adds or []}, pii=pii)

    def set_text(self, name: str, value: str) -> dict:
        text_id = self.dom.text_of(self.ref(name))
        self.dom.nodes[text_id]["text"] = value
        return {"id": text_id, "value": value}

    def set_attrs(self, name: str, changes: dict) -> dict:
        node = self.dom.nodes[self.ref(name)]
        for key, value in changes.items():
            if value is None:
                node["attrs"].pop(key, None)
            else:
                node["attrs"][key] = value
        return {"id": node["id"], "attributes": dict(changes)}

    def show(self, parent: str, spec: El, *, pii: set | tuple = ()) -> int:
        """Add an element at the end of ``parent``; returns its node id."""
        root, adds = self.dom.attach(spec, self.ref(parent))
        self.mutation(adds=adds, pii=pii)
        return root

    def hide(self, nid: int) -> None:
        self.mutation(removes=[self.dom.detach(nid)])

    def toast(self, text: str) -> None:
        self.wait(80, 200)
        root = self.show("body", h("div", {"class": "toast", "role": "status"}, h("p", {}, text)))
        self.wait(2500, 3500)
        self.hide(root)

    def add_to_basket(self, slug: str, button: str) -> None:
        self.click(button)
        self.visitor.basket.append(slug)
        self.wait(40, 90)
        self.mutation(attributes=[self.set_attrs(button, {"disabled": "", "aria-busy": "true"})])
        self.wait(150, 400)
        self.network([self.request(SITE + "/api/basket/items", "fetch", "POST",
                                   {"sku": slug, "qty": 1},
                                   {"count": len(self.visitor.basket), "sku": slug})])
        self.wait(10, 40)
        self.mutation(texts=[self.set_text("badge", str(len(self.visitor.basket)))],
                      attributes=[self.set_attrs(button, {"disabled": None, "aria-busy": None})])
        self.console("log", ["[basket] added", {"sku": slug, "count": len(self.visitor.basket)}])
        self.toast(f"{PRODUCT[slug][0]} added to your basket")

    # -- console and network ----------------------------------------------------------
    def console(self, level: str, args: list, *, pii: set | tuple = (),
                timestamp: bool = True) -> int:
        """An ``rrweb/console@1`` event; rrweb stores each argument JSON-stringified."""
        self.wait(2, 30)
        payload = [json.dumps(arg, ensure_ascii=False, separators=(",", ":")) for arg in args]
        frame = self.rng.randint(1200, 98000)
        trace = [f"{SITE}{JS_PATH}:2:{frame}", f"{SITE}{VENDOR_JS}:1:{frame // 3 + 17}"]
        return self.emit(6, {"plugin": "rrweb/console@1",
                             "payload": {"level": level, "payload": payload, "trace": trace}},
                         pii=pii, timestamp=timestamp)

    def request(self, url: str, initiator: str, method: str, body: object, response: object,
                *, status: int = 200, stagger: int = 0) -> dict:
        """One entry of an ``rrweb/network@1`` event, times relative to the page load."""
        start = self.t - self.loaded_at + stagger + self.rng.randint(0, 9) / 10
        duration = self.rng.randint(18, 240) + self.rng.randint(0, 9) / 10
        headers = ({"content-type": "application/json", "accept": "application/json"}
                   if initiator == "fetch" else {})

        def dump(value: object) -> str | None:
            return None if value is None else json.dumps(value, ensure_ascii=False,
                                                         separators=(",", ":"))

        return {"name": url, "method": method, "initiatorType": initiator,
                "responseStatus": status, "requestHeaders": headers,
                "requestBody": dump(body), "responseBody": dump(response),
                "startTime": round(start, 1), "endTime": round(start + duration, 1)}

    def network(self, requests: list, *, pii: set | tuple = ()) -> int:
        self.t += round(max(r["endTime"] for r in requests) - (self.t - self.loaded_at)) + 40
        return self.emit(6, {"plugin": "rrweb/network@1", "payload": {"requests": requests}},
                         pii=pii)

    def custom(self, tag: str, payload: dict, *, pii: set | tuple = (),
               flagged: bool | None = None) -> int:
        return self.emit(5, {"tag": tag, "payload": payload}, pii=pii, flagged=flagged)


# -- common journeys ----------------------------------------------------------------------------

def browse_products(r: Recording, count: int, *, add: int = 0) -> None:
    """Home page, a few product pages, adding ``add`` of them to the basket."""
    r.go("home", "/")
    r.wander(2)
    r.read(r.rng.randint(500, 1100))
    for index in range(count):
        cards = [name for name in r.dom.refs if name.startswith("product:")]
        name = r.rng.choice(cards)
        slug = name.split(":", 1)[1]
        r.click(name)
        r.go("product", f"/products/{slug}", slug=slug)
        r.wander(2)
        r.click("img2")
        r.read(r.rng.randint(400, 900))
        if index < add:
            r.choose("size", r.rng.choice(["S", "M", "L"]))
            r.tick(f"colour:{r.rng.choice(['moss', 'slate', 'ember'])}", True)
            r.add_to_basket(slug, "add")
        r.click("logo")
        r.go("home", "/")
        r.wander(1)


def search(r: Recording, query: str) -> None:
    r.type_into("q", query)
    r.click("search-go")
    r.go("search", "/search?q=" + query.replace(" ", "+"), query=query)
    r.wander(2)


def sign_in(r: Recording, *, pii_after: bool, remember: bool = False) -> None:
    """The sign-in form; ``pii_after`` tags the typed e-mail and password."""
    p = r.person
    r.type_into("login-email", p.email, pii=("email",) if pii_after else ())
    r.type_into("login-password", p.password, pii=("password",) if pii_after else ())
    if remember:
        r.tick("remember", True)
    r.click("login-go")
    r.wait(200, 500)
    r.network([r.request(SITE + "/api/session", "fetch", "POST", None, {"ok": True})])
    r.visitor.signed_in = True


def fill_checkout(r: Recording, *, pii_after: bool) -> None:
    """Contact, address and card, typed field by field; ``pii_after`` tags the finished values."""
    p = r.person

    def kinds(*values: str) -> tuple:
        return values if pii_after else ()

    street, city, postcode, country = p.address
    r.type_into("email", p.email, pii=kinds("email"))
    r.wait(200, 500)
    r.network([r.request(f"{SITE}/api/customers/lookup?email={p.email}", "fetch", "GET", None,
                         {"known": True, "saved_addresses": 1})], pii=kinds("email"))
    r.type_into("phone", p.phone, pii=kinds("phone"))
    r.tick("offers", r.rng.random() < 0.5)
    r.type_into("fullname", p.full_name)
    r.type_into("street", street)
    r.type_into("city", city)
    r.type_into("postcode", postcode)
    r.choose("country", country)
    r.read(300)
    r.type_into("cc-number", p.card, pii=kinds("card"), fast=True)
    r.type_into("cc-exp", p.card_exp, pii=kinds("card"))
    r.type_into("cc-csc", str(r.rng.randint(100, 999)), pii=kinds("card"))
    r.type_into("cc-name", p.full_name.upper(), pii=kinds("card"))
    r.tick("save-card", False)


def pay(r: Recording, order: str, *, card_in_body: bool, pii_after: bool) -> None:
    p = r.person
    r.click("pay")
    r.wait(30, 80)
    r.mutation(attributes=[r.set_attrs("pay", {"disabled": "", "aria-busy": "true"})])
    body: dict = {"email": p.email, "basket": r.visitor.basket}
    kinds = {"email"}
    if card_in_body:
        body["card_number"] = p.card
        body["expiry"] = p.card_exp
        kinds.add("card")
    r.wait(200, 500)
    r.network([r.request(SITE + "/api/checkout/payment", "fetch", "POST", body,
                         {"order": order, "status": "authorised"})],
              pii=kinds if pii_after else ())
    r.console("info", ["[checkout] payment authorised for", p.email, {"order": order}],
              pii=("email",) if pii_after else ())
    r.visitor.basket = []


def chat(r: Recording, message: str, reply: str, *, pii: set | tuple) -> None:
    """Open the support chat, send ``message``, get ``reply``."""
    r.click("chat-open")
    r.wait(30, 90)
    r.mutation(attributes=[r.set_attrs("chat-open", {"aria-expanded": "true"}),
                           r.set_attrs("chat-log", {"hidden": None}),
                           r.set_attrs("chat-form", {"hidden": None})])
    r.wait(600, 1500)
    r.show("chat-log", h("li", {"class": "msg agent"}, "Hi! I'm Maya from Fernhill. How can I "
                                                     "help?"))
    r.type_into("chat-input", message, pii=pii, fast=True)
    r.click("chat-send")
    r.wait(20, 60)
    nid = r.ref("chat-input")
    r.values[nid] = ""
    r.show("chat-log", h("li", {"class": "msg me"}, message), pii=pii)
    r.emit(3, {"source": 5, "text": "", "isChecked": False, "id": nid})
    r.wait(100, 300)
    r.network([r.request(SITE + "/api/support/chat", "fetch", "POST", {"message": message},
                         {"accepted": True})], pii=pii)
    r.wait(800, 2000)
    typing = r.show("chat-log", h("li", {"class": "msg agent typing"}, "Maya is typing…"))
    r.wander(2)
    r.wait(2000, 5000)
    r.hide(typing)
    r.wait(5, 20)
    r.show("chat-log", h("li", {"class": "msg agent"}, reply))


# -- the sessions -------------------------------------------------------------------------------

LAPTOP = {"touch": False, "width": 1440, "height": 900}
DESKTOP = {"touch": False, "width": 1920, "height": 1080}
PHONE = {"touch": True, "width": 390, "height": 844}
TABLET = {"touch": True, "width": 820, "height": 1180}

#: The consent ledger, filled by the session scripts (the instants they decide).
LEDGER: list[dict] = []


def ledger(subject: str, action: str, at: int, *, offset: int | None = None,
           scope: str | None = None, source: str | None = None) -> None:
    """A ledger line; ``offset`` writes ``at`` as ISO-8601 with that UTC offset in hours."""
    record: dict = {"subject": subject, "action": action,
                    "at": at if offset is None else iso(at, offset)}
    if scope is not None:
        record["scope"] = scope
    if source is not None:
        record["source"] = source
    LEDGER.append(record)


def alice_1(r: Recording) -> None:
    """Before any opt-out: shopping on her laptop, basket only."""
    browse_products(r, 3, add=2)
    r.click("basket")
    r.go("cart", "/cart")
    r.wander(3)
    r.click("account")
    r.go("account", "/account")
    r.wander(2)
    r.click("orders")
    r.go("orders", "/account/orders")
    r.wander(3)
    r.note("before Alice's opt-out: nothing flagged (her details on the account page are "
           "recorded while she still consents)")


def alice_2(r: Recording) -> None:
    """The ledger opt-out mid-session, the planted boundary cases, then PII everywhere."""
    p = r.person
    browse_products(r, 4, add=1)
    search(r, "trekking poles")
    r.read(700)
    r.click("account")
    r.go("account", "/account")
    r.wander(2)
    r.click("privacy")
    r.go("privacy", "/account/privacy")
    r.wander(1)
    r.tick("pref-recording", False)
    r.wait(400, 900)
    # The click on "Save preferences": the server writes the opt-out at the click's instant.
    r.press("save-privacy")
    r.wait(50, 130)
    r.interact(0, r.ref("save-privacy"))  # MouseUp, before the opt-out
    opt_out = r.t + 4
    ledger(ALICE_USER, "opt_out", opt_out, offset=0, scope="replay", source="privacy_center")
    r.consent_changes(opt_out, True)
    seq = r.interact(2, r.ref("save-privacy"), at=opt_out)
    r.note("ledger opt-out (scope replay) at this event's instant: the Click is flagged "
           "(boundary included)", seq)
    # A batch flushed after the opt-out whose positions were all recorded before it.
    nid = r.ref("save-privacy")
    stamp = opt_out + 38
    seq = r.emit(3, {"source": 1, "positions": [
        {"x": r.x + dx, "y": r.y + dy, "id": nid, "timeOffset": at - stamp}
        for dx, dy, at in ((-3, 1, opt_out - 71), (-1, 0, opt_out - 46),
                           (0, 0, opt_out - 19))]}, at=stamp, flagged=False)
    r.note("mouse-move batch stamped after the opt-out, every position before it: not flagged",
           seq)
    r.t = stamp + 60
    r.network([r.request(SITE + "/api/consent", "fetch", "POST",
                         {"session_recording": False, "analytics": True},
                         {"saved": True})])
    r.show("privacy-status", h("p", {"class": "saved"}, "Your preferences have been saved."))
    stamp = r.t + 210
    seq = r.emit(3, {"source": 1, "positions": [
        {"x": r.x + 4 * i, "y": r.y + 9 * i, "id": nid, "timeOffset": at - stamp}
        for i, at in enumerate((opt_out - 8, opt_out + 70, r.t + 40, r.t + 150))]}, at=stamp)
    r.note("mouse-move batch straddling the opt-out (first position before it): flagged", seq)
    r.t = stamp
    r.console("info", ["[consent] preferences saved", {"session_recording": False}])
    r.wander(2)
    r.click("logo")
    r.go("home", "/")
    r.wander(1)
    r.click("account")
    r.go("account", "/account")
    r.note("after the opt-out: account page text shows her e-mail and phone")
    r.wander(2)
    r.click("credit")
    r.go("credit", "/account/credit-application")
    r.read(300)
    r.type_into("credit-name", p.full_name)
    r.type_into("national-id", p.national_id, pii=("national_id",))
    r.type_into("credit-phone", p.phone, pii=("phone",))
    r.type_into("iban", p.iban, pii=("iban",), fast=True)
    r.tick("agree", True)
    r.type_into("credit-password", p.password, pii=("password",))
    r.note("typed after the opt-out: National Insurance number, phone, IBAN, password")
    r.click("credit-go")
    r.wait(150, 400)
    body = {"legal_name": p.full_name, "national_insurance": p.national_id.replace(" ", ""),
            "phone": p.phone, "iban": p.iban.replace(" ", "")}
    r.network([r.request(SITE + "/api/credit/applications", "fetch", "POST", body,
                         {"application": "PL-3318", "status": "received"})],
              pii=("national_id", "phone", "iban"))
    r.console("log", ["[credit] application submitted", body],
              pii=("national_id", "phone", "iban"))
    seq = r.console("warn", ["[pay-later-widget] scoring service slow, retrying"],
                    timestamp=False)
    r.note("console event with no timestamp in a session she opted out of: undetermined", seq)
    r.wait(600, 1200)
    r.show("notices", h("p", {"class": "notice"}, f"Application received. We will text you at "
                                                  f"{p.phone} within two working days."),
           pii=("phone",))
    r.wander(2)
    browse_products(r, 2)
    cards = sorted(name for name in r.dom.refs if name.startswith("add:"))
    slug = cards[0].split(":", 1)[1]
    r.add_to_basket(slug, cards[0])
    r.click("basket")
    r.go("cart", "/cart")
    r.wander(2)
    r.click("to-checkout")
    r.go("checkout", "/checkout")
    fill_checkout(r, pii_after=True)
    r.note("typed after the opt-out: e-mail, phone, card number, expiry, security code")
    pay(r, "FH-48213", card_in_body=True, pii_after=True)
    r.note("network: her e-mail in a request URL's query string, her e-mail and card number in "
           "a request body; console log with her e-mail")
    r.go("confirmation", f"/checkout/confirmation?order=FH-48213&email={p.email}",
         url_pii=("email",), order="FH-48213")
    r.note("URL query string with her e-mail (Meta href and $pageview)")
    r.wander(3)


def alice_3(r: Recording) -> None:
    """On her phone two days later, linked to her account by identities: all flagged."""
    p = r.person
    r.note("on her phone, subject = the phone's anonymous id, linked to her user id through "
           "identities: every event after her opt-out is flagged")
    r.go("login", "/account/login")
    sign_in(r, pii_after=True, remember=True)
    r.go("account", "/account")
    r.read(400)
    r.click("orders")
    r.go("orders", "/account/orders")
    r.read(300)
    browse_products(r, 2)
    r.click("nav:help")
    r.go("support", "/support")
    r.read(600)
    chat(r, f"Hi, order FH-48213 has not arrived yet. You can call me on {p.phone}",
         "Sorry about that! It left our warehouse yesterday, expect it tomorrow.",
         pii=("phone",))
    r.wander(2)


def alice_4(r: Recording) -> None:
    """Phone again, signed out, no subject at all: linked only through the phone's device id."""
    p = r.person
    r.note("no subject: only the device id links this session, through identities (device -> "
           "phone anonymous id -> user id), to her opt-out")
    r.go("home", "/")
    r.read(900)
    search(r, "waterproof trousers")
    r.read(400)
    browse_products(r, 2)
    r.click("nav:help")
    r.go("support", "/support")
    r.click("faq:0")
    r.wait(30, 60)
    r.read(300)
    r.type_into("contact-name", p.full_name)
    r.type_into("contact-email", p.email, pii=("email",))
    r.type_into("contact-phone", p.phone, pii=("phone",))
    r.type_into("contact-order", "FH-48213")
    r.choose("contact-topic", "Delivery")
    message = (f"The parcel still has not come. Please reply to {p.email} rather than "
               "calling.")
    r.type_into("contact-message", message, pii=("email",), fast=True)
    r.click("contact-go")
    r.wait(150, 400)
    r.network([r.request(SITE + "/api/support/tickets", "fetch", "POST",
                         {"name": p.full_name, "email": p.email, "phone": p.phone,
                          "order": "FH-48213", "topic": "Delivery", "message": message},
                         {"ticket": "SUP-2041", "status": "open"})], pii=("email", "phone"))
    r.console("log", ["[support] ticket created", {"ticket": "SUP-2041"}])
    r.wait(300, 700)
    contact = r.ref("contact")
    r.hide(contact)
    r.show("main", h("p", {"class": "thanks"}, f"Thanks! We will reply to {p.email} within a "
                                               "day."), pii=("email",))
    r.wander(2)


def bob_1(r: Recording) -> None:
    """Anonymous on his laptop; rejects advertising in the banner at an instant the ledger
    records; ads and marketing opt-outs govern nothing here."""
    r.go("home", "/")
    r.wander(2)
    r.press("banner-reject-ads")
    click = r.release("banner-reject-ads")
    at = r.events[click]["timestamp"]
    ledger(BOB_ANON, "opt_out", at, scope="ads", source="cookie_banner")
    r.note("ads-scope opt-out recorded at this click's instant: not flagged (ads does not "
           "govern recording)", click)
    r.wait(20, 60)
    r.hide(r.ref("banner"))
    r.visitor.banner = False
    browse_products(r, 3, add=1)
    r.click("basket")
    r.go("cart", "/cart")
    r.wander(2)
    search(r, "head torch")
    r.read(300)
    r.note("his user id has a marketing-scope opt-out (2024-03-08): not flagged either")


def bob_2(r: Recording) -> None:
    """On the family iPad after Carol opted out: not flagged (the device does not join them)."""
    p = r.person
    r.note("on the iPad Carol also uses, after Carol's opt-out: not flagged (a shared device "
           "does not make Bob and Carol one person)")
    r.go("login", "/account/login")
    sign_in(r, pii_after=False)
    browse_products(r, 2, add=2)
    r.click("basket")
    r.go("cart", "/cart")
    r.click("to-checkout")
    r.go("checkout", "/checkout")
    fill_checkout(r, pii_after=False)
    pay(r, "FH-48388", card_in_body=False, pii_after=False)
    r.go("confirmation", f"/checkout/confirmation?order=FH-48388&email={p.email}",
         order="FH-48388")
    r.wander(1)


def bob_3(r: Recording) -> None:
    browse_products(r, 3)
    search(r, "tent")
    r.read(600)
    r.click("account")
    r.go("account", "/account")
    r.click("orders")
    r.go("orders", "/account/orders")
    r.click("nav:help")
    r.go("support", "/support")
    r.click("faq:1")
    r.read(500)
    chat(r, "Can I swap the boots for a bigger size?", "Of course, start a return and choose "
         "exchange.", pii=())
    r.read(300)
    r.note("iPad again, two days after Carol's opt-out: not flagged")


def carol_1(r: Recording) -> None:
    r.go("home", "/")
    r.read(800)
    browse_products(r, 4, add=2)
    search(r, "socks")
    r.read(500)
    r.click("basket")
    r.go("cart", "/cart")
    r.read(200)
    r.note("on the family iPad before her opt-out: not flagged")


def carol_2(r: Recording) -> None:
    """She opts out in the privacy settings; the recorder stops at once, as it should."""
    browse_products(r, 3, add=1)
    search(r, "fleece")
    r.read(600)
    r.click("basket")
    r.go("cart", "/cart")
    r.read(300)
    r.click("account")
    r.go("account", "/account")
    r.read(200)
    r.click("privacy")
    r.go("privacy", "/account/privacy")
    r.tick("pref-recording", False)
    r.tick("pref-marketing", True)
    click = r.click("save-privacy")
    at = r.events[click]["timestamp"] + 37
    ledger(CAROL_USER, "opt_out", at, source="privacy_center")
    r.consent_changes(at, True)
    r.note("ledger opt-out (no scope) 37 ms after her last event, and nothing recorded after "
           "it: no flags", click)


def dan_1(r: Recording) -> None:
    """Dan on Erin's laptop, whose browser sent Global Privacy Control: all flagged."""
    p = r.person
    r.note("on Erin's laptop, which has a device-level GPC opt-out: every event is flagged, "
           "although Dan never opted out himself")
    r.go("login", "/account/login")
    sign_in(r, pii_after=True)
    browse_products(r, 2, add=1)
    r.click("basket")
    r.go("cart", "/cart")
    r.click("to-checkout")
    r.go("checkout", "/checkout")
    fill_checkout(r, pii_after=True)
    pay(r, "FH-48302", card_in_body=False, pii_after=True)
    r.go("confirmation", f"/checkout/confirmation?order=FH-48302&email={p.email}",
         url_pii=("email",), order="FH-48302")
    r.wander(2)


def dan_2(r: Recording) -> None:
    """His phone: 'Reject all' writes an in-band consent marker, and recording goes on."""
    p = r.person
    r.go("home", "/")
    r.read(500)
    browse_products(r, 2)
    r.click("banner-reject-all")
    r.wait(2, 6)
    at = r.t
    r.consent_changes(at, True)
    # The marker is the consent record, never flagged itself; everything after it is.
    seq = r.custom("consent", {"action": "opt_out", "scope": "all"}, flagged=False)
    r.note("in-band consent marker (opt_out, scope all): not flagged itself (a marker never "
           "is), but every event after it is", seq)
    r.wait(20, 50)
    r.hide(r.ref("banner"))
    r.visitor.banner = False
    browse_products(r, 2)
    r.click("nav:help")
    r.go("support", "/support")
    r.read(400)
    r.type_into("contact-name", p.full_name)
    r.type_into("contact-email", p.email, pii=("email",))
    r.type_into("contact-phone", p.phone, pii=("phone",))
    r.choose("contact-topic", "Product question")
    r.type_into("contact-message", "Does the Halfmoon tent fit two people with big rucksacks?",
                fast=True)
    r.click("contact-go")
    r.wait(150, 400)
    r.network([r.request(SITE + "/api/support/tickets", "fetch", "POST",
                         {"name": p.full_name, "email": p.email, "phone": p.phone,
                          "topic": "Product question"},
                         {"ticket": "SUP-2057", "status": "open"})], pii=("email", "phone"))
    r.wander(2)


def erin_1(r: Recording) -> None:
    r.go("home", "/")
    r.wander(2)
    search(r, "merino")
    browse_products(r, 2, add=1)
    r.click("basket")
    r.go("cart", "/cart")
    r.read(200)
    r.note("her laptop, the day before its GPC opt-out: not flagged")


def erin_2(r: Recording) -> None:
    """Her phone after her laptop's GPC opt-out: the opt-out is the laptop's, not hers."""
    p = r.person
    browse_products(r, 3, add=1)
    r.click("account")
    r.go("login", "/account/login")
    sign_in(r, pii_after=False)
    r.go("account", "/account")
    r.click("credit")
    r.go("credit", "/account/credit-application")
    r.type_into("credit-name", p.full_name)
    r.type_into("national-id", p.national_id)
    r.type_into("credit-phone", p.phone)
    r.tick("agree", True)
    r.type_into("credit-password", p.password)
    r.click("credit-go")
    r.wander(1)
    r.note("on her own phone after her laptop's GPC opt-out: not flagged (the opt-out names the "
           "laptop; a session never joins its subject to its device), although her SSN, "
           "phone and password are typed here")


def frank_1(r: Recording) -> None:
    """Rejects analytics in the banner, later opts back in: only the span between is flagged."""
    p = r.person
    r.go("home", "/")
    r.wander(2)
    r.read(400)
    click = r.click("banner-reject-analytics")
    out = r.events[click]["timestamp"] + 41
    ledger(FRANK_USER, "opt_out", out, scope="analytics", source="cookie_banner")
    r.consent_changes(out, True)
    r.note("ledger opt-out (scope analytics) 41 ms after this click; events from then on are "
           "flagged", click)
    r.wait(20, 50)
    r.hide(r.ref("banner"))
    r.visitor.banner = False
    browse_products(r, 1, add=1)
    r.click("basket")
    r.go("cart", "/cart")
    r.click("to-checkout")
    r.go("checkout", "/checkout")
    r.type_into("email", p.email, pii=("email",))
    r.note("e-mail typed while opted out: flagged")
    r.wait(3000, 6000)
    r.click("footer-privacy")
    r.go("privacy", "/account/privacy")
    r.tick("pref-analytics", True)
    click = r.click("save-privacy")
    back = r.events[click]["timestamp"] + 52
    ledger(FRANK_USER, "opt_in", back, offset=0, scope="analytics", source="privacy_center")
    r.consent_changes(back, False)
    r.note("ledger opt-in 52 ms after this click (still flagged); nothing after it is", click)
    r.wait(100, 300)
    r.network([r.request(SITE + "/api/consent", "fetch", "POST", {"analytics": True},
                         {"saved": True})])
    r.click("basket")
    r.go("cart", "/cart")
    r.click("to-checkout")
    r.go("checkout", "/checkout")
    fill_checkout(r, pii_after=False)
    pay(r, "FH-48351", card_in_body=False, pii_after=False)
    r.go("confirmation", f"/checkout/confirmation?order=FH-48351&email={p.email}",
         order="FH-48351")
    r.note("card, phone and e-mail typed after the opt-in: not flagged")


def frank_2(r: Recording) -> None:
    r.go("home", "/")
    r.read(700)
    browse_products(r, 4, add=1)
    search(r, "stove")
    r.click("account")
    r.go("account", "/account")
    r.click("orders")
    r.go("orders", "/account/orders")
    r.note("two days after his opt-in: not flagged")


@dataclass(frozen=True)
class SessionPlan:
    key: str  # a short name for the seed and the README: "alice-2"
    person: Person
    subject: str | None
    device: str
    start: str  # ISO-8601 with offset
    device_kind: dict
    suffix: str  # .ndjson | .ndjson.gz | .json
    script: Callable[[Recording], None]
    signed_in: bool = True
    banner: bool = False
    opted_out: bool = False  # the person is already opted out when the session starts
    started_at: bool = True  # whether the manifest gives started_at


SESSIONS = [
    SessionPlan("bob-1", BOB, BOB_ANON, BOB_MAC, "2024-03-09T18:40:12.118-05:00", LAPTOP,
                ".ndjson", bob_1, signed_in=False, banner=True),
    SessionPlan("carol-1", CAROL, CAROL_USER, FAMILY_IPAD, "2024-03-10T12:05:40.503-04:00",
                TABLET, ".ndjson", carol_1),
    SessionPlan("erin-1", ERIN, ERIN_USER, ERIN_LAPTOP, "2024-03-10T16:15:03.871-04:00",
                LAPTOP, ".ndjson.gz", erin_1),
    SessionPlan("alice-1", ALICE, ALICE_USER, ALICE_LAPTOP, "2024-03-11T19:32:08.407+00:00",
                LAPTOP, ".ndjson", alice_1),
    SessionPlan("alice-2", ALICE, ALICE_USER, ALICE_LAPTOP, "2024-03-12T14:18:05.662+00:00",
                LAPTOP, ".ndjson.gz", alice_2),
    SessionPlan("dan-1", DAN, DAN_USER, ERIN_LAPTOP, "2024-03-12T20:41:27.090+01:00", LAPTOP,
                ".ndjson.gz", dan_1, signed_in=False, opted_out=True),
    SessionPlan("carol-2", CAROL, CAROL_USER, CAROL_PHONE, "2024-03-12T18:30:51.764-04:00",
                PHONE, ".ndjson.gz", carol_2),
    SessionPlan("bob-2", BOB, BOB_USER, FAMILY_IPAD, "2024-03-12T21:10:33.215-04:00", TABLET,
                ".ndjson.gz", bob_2, signed_in=False),
    SessionPlan("frank-1", FRANK, FRANK_USER, FRANK_PC, "2024-03-13T09:10:44.938+00:00",
                DESKTOP, ".ndjson.gz", frank_1, banner=True),
    SessionPlan("alice-3", ALICE, ALICE_ANON_PHONE, ALICE_PHONE, "2024-03-14T08:02:17.326+00:00",
                PHONE, ".ndjson.gz", alice_3, signed_in=False, opted_out=True),
    SessionPlan("dan-2", DAN, DAN_USER, DAN_PHONE, "2024-03-14T18:05:09.551+01:00", PHONE,
                ".ndjson", dan_2, banner=True),
    SessionPlan("bob-3", BOB, BOB_USER, FAMILY_IPAD, "2024-03-14T20:20:02.480-04:00", TABLET,
                ".ndjson", bob_3),
    SessionPlan("frank-2", FRANK, FRANK_USER, FRANK_PHONE, "2024-03-15T12:40:36.004+00:00",
                PHONE, ".ndjson", frank_2, started_at=False),
    SessionPlan("erin-2", ERIN, ERIN_USER, ERIN_PHONE, "2024-03-15T17:30:18.649-04:00", PHONE,
                ".json", erin_2, signed_in=False),
    SessionPlan("alice-4", ALICE, None, ALICE_PHONE, "2024-03-16T10:47:55.812+00:00", PHONE,
                ".json", alice_4, signed_in=False, opted_out=True),
]

#: Ledger lines that no session script writes: decided before any session starts.
FIXED_LEDGER = [
    # Bob unsubscribed from marketing e-mails: marketing scope governs no recording.
    (BOB_USER, "opt_out", "2024-03-08T18:02:11.000-05:00", -5, "marketing", "email_preferences"),
    # Erin's laptop browser sends Global Privacy Control; the consent platform logs the device.
    (ERIN_LAPTOP, "opt_out", "2024-03-11T09:02:40.512-04:00", None, None, "gpc"),
]


# -- building and writing -------------------------------------------------------------------

def session_id(plan: SessionPlan, start: int) -> str:
    """A UUIDv7-style id: the start time in its first 48 bits, the rest from the seed."""
    rng = random.Random(f"{SEED}:{plan.key}:id")
    bits = rng.getrandbits(74)
    value = (start << 80) | (0x7 << 76) | ((bits >> 62) << 64) | (0b10 << 62) | (
        bits & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def record(plan: SessionPlan) -> Recording:
    start = instant(plan.start)
    r = Recording(f"{SEED}:{plan.key}", plan.person, start, signed_in=plan.signed_in,
                  banner=plan.banner, opted_out=plan.opted_out, **plan.device_kind)
    plan.script(r)
    return r


def encode(events: list[dict], suffix: str) -> bytes:
    lines = [json.dumps(event, ensure_ascii=False, separators=(",", ":")) for event in events]
    if suffix == ".json":
        return ("[" + ",\n".join(lines) + "]\n").encode()
    data = "".join(line + "\n" for line in lines).encode()
    return gzip_bytes(data) if suffix.endswith(".gz") else data


def gzip_bytes(data: bytes) -> bytes:
    """gzip with mtime 0, no file name and OS "unknown", so no byte depends on where it ran."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = packer.compress(data) + packer.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def ndjson(records: list[dict]) -> bytes:
    return "".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for item in records).encode()


def build() -> tuple[dict[str, bytes], dict]:
    """Every archive member by path, and the expected.json content (without the zip hash)."""
    LEDGER.clear()
    for subject, action, at, offset, scope, source in FIXED_LEDGER:
        ledger(subject, action, instant(at), offset=offset, scope=scope, source=source)
    members: dict[str, bytes] = {}
    sessions = []
    for plan in SESSIONS:
        r = record(plan)
        start = r.events[0]["timestamp"]
        sid = session_id(plan, start)
        path = f"sessions/{sid}{plan.suffix}"
        members[path] = encode(r.events, plan.suffix)
        entry = {"session_id": sid, "path": path,
                 "sha256": hashlib.sha256(members[path]).hexdigest(), "events": len(r.events)}
        if plan.subject is not None:
            entry["subject"] = plan.subject
        entry["device"] = plan.device
        if plan.started_at:
            entry["started_at"] = start
        flagged = [i for i, label in enumerate(r.labels) if label.state == "flagged"]
        sessions.append((start, entry, {
            "session_id": sid, "label": plan.key, "person": plan.person.name,
            "subject": plan.subject, "device": plan.device, "path": path,
            "events": len(r.events),
            "flagged_seqs": flagged,
            "undetermined_seqs": [i for i, label in enumerate(r.labels)
                                  if label.state == "undetermined"],
            "categories": sorted({category_of(r.events[i]) for i in flagged}),
            "pii_kinds": [kind for kind in PII_KINDS
                          if any(kind in r.labels[i].pii for i in flagged)],
            "planted": r.notes,
        }))
    sessions.sort(key=lambda item: item[0])
    manifest = {"format": "replay-archive", "version": 1, "exported_at": EXPORTED_AT,
                "exporter": EXPORTER, "sessions": [entry for _, entry, _ in sessions]}
    members["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    members["consent.ndjson"] = ndjson(sorted(LEDGER, key=lambda c: at_ms(c["at"])))
    members["identities.ndjson"] = ndjson(IDENTITIES)
    return members, expected_document([truth for _, _, truth in sessions])


def at_ms(value: int | str) -> int:
    return value if isinstance(value, int) else instant(value)


def expected_document(sessions: list[dict]) -> dict:
    by_category: dict[str, int] = {}
    for session in sessions:
        for kind in session["categories"]:
            by_category[kind] = by_category.get(kind, 0) + 1
    people = {}
    for person in PEOPLE:
        mine = [s for s in sessions if s["person"] == person.name]
        people[person.name] = {
            "sessions": [s["session_id"] for s in mine],
            "subjects": sorted({s["subject"] for s in mine if s["subject"]}),
            "devices": sorted({s["device"] for s in mine}),
        }
    return {
        "archive": ARCHIVE_NAME,
        "rules": [
            "An opt-out covers the events from its instant on (an event exactly at the instant "
            "is covered) until a later opt-in of the same person (events from the opt-in's "
            "instant on are not covered).",
            "Scopes replay, analytics and all, and a missing scope, govern recording; "
            "marketing and ads do not.",
            "identities.ndjson links keys transitively. A session is linked to the consent "
            "records of its subject's keys and of its device's keys, but a session does not "
            "link its subject to its device (a shared device does not merge people).",
            "An in-band Custom event {tag: consent, payload: {action, scope?}} is an opt-out or "
            "opt-in of the session's subject (or of its device, when it has no subject) at the "
            "event's timestamp; the marker itself is never flagged.",
            "A mouse or touch move batch is flagged when any of its positions "
            "(timestamp + timeOffset) is covered; other events by their timestamp.",
            "An event without a timestamp in a session an opt-out applies to is undetermined.",
            "seq is the 0-based index of the event in its session file.",
        ],
        "people": people,
        "sessions": sessions,
        "totals": {
            "sessions": len(sessions),
            "events": sum(s["events"] for s in sessions),
            "flagged_sessions": sum(1 for s in sessions if s["flagged_seqs"]),
            "flagged_events": sum(len(s["flagged_seqs"]) for s in sessions),
            "undetermined_events": sum(len(s["undetermined_seqs"]) for s in sessions),
            "sessions_by_category": dict(sorted(by_category.items())),
            "pii_kinds": [k for k in PII_KINDS if any(k in s["pii_kinds"] for s in sessions)],
        },
    }


def write_zip(members: dict[str, bytes]) -> bytes:
    """A zip with sorted members, fixed times and attributes: the same bytes every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            stored = name.endswith(".gz")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name], compresslevel=None if stored else 9)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder for demo-archive.zip and expected.json (default: beside "
                             "this script)")
    args = parser.parse_args(argv)
    members, expected = build()
    archive = write_zip(members)
    expected["archive_sha256"] = hashlib.sha256(archive).hexdigest()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / ARCHIVE_NAME).write_bytes(archive)
    (args.out / EXPECTED_NAME).write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    totals = expected["totals"]
    print(f"{args.out / ARCHIVE_NAME}: {len(archive):,} bytes, {totals['sessions']} sessions, "
          f"{totals['events']:,} events, {totals['flagged_events']:,} flagged in "
          f"{totals['flagged_sessions']} sessions, {totals['undetermined_events']} undetermined")
    return 0


if __name__ == "__main__":
    sys.exit(main())
