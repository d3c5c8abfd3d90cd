"""The rebuilt page written out: a safe HTML document, or its visible text.

Safe means opening the HTML runs nothing and fetches nothing: scripts, ``<noscript>``, ``<base>``,
refresh ``<meta>`` and event-handler attributes are left out; every attribute that would load or
lead somewhere (``src``, ``srcset``, ``href``, ``action``, ``poster``...) is kept under a
``data-rr-`` name instead (in-page ``#anchors`` and ``data:image`` sources stay); CSS loses its
``@import`` rules and ``url()`` references; an iframe's recorded document goes into a sandboxed
``srcdoc``. A Content-Security-Policy that forbids every fetch and every script is written first
in the head, so anything these rules miss is still blocked by the browser.

Input elements show their current value (from Input events), masked by :mod:`.privacy`.
"""

from __future__ import annotations

import re
from html import escape

from .dom import (
    CDATA,
    CHILDREN,
    COMMENT,
    DOCTYPE,
    DOCUMENT,
    ELEMENT,
    FLAGS,
    KIND,
    NAME,
    SHADOW,
    TEXT,
    VALUE,
    State,
)
from .page import input_state
from .privacy import INPUT_TAGS, URL_ATTRIBUTES, Masker

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
       "media-src data:; form-action 'none'; base-uri 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr", "keygen"})
DROPPED = frozenset({"script", "noscript", "base", "frame", "frameset", "applet"})
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9:._-]*")
_ATTRIBUTE = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")
_CSS_IMPORT = re.compile(r"@import\b[^;]*;?", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(\"[^\"]*\"|'[^']*'|[^)]*)\s*\)", re.IGNORECASE)
# image-set() names images without url(): renamed, the declaration is ignored by browsers.
_CSS_IMAGE_SET = re.compile(r"\b((?:-webkit-)?image-set)\(", re.IGNORECASE)
_SAFE_DATA = re.compile(r"\s*[\"']?\s*data:(image|font)/", re.IGNORECASE)


def to_html(state: State, masker: Masker) -> str:
    if state.root is None or state.root not in state.nodes:
        return f"<!DOCTYPE html>\n<html><head>{CSP_META}</head><body></body></html>\n"
    return _Writer(state, masker).document(state.root) + "\n"


class _Writer:
    def __init__(self, state: State, masker: Masker) -> None:
        self.state = state
        self.nodes = state.nodes
        self.masker = masker

    def document(self, root: int) -> str:
        out: list[str] = []
        kids = self.nodes[root][CHILDREN]
        has_head = any(self._is(c, "html") and any(self._is(g, "head")
                                                   for g in self.nodes[c][CHILDREN])
                       for c in kids)
        if not any(self.nodes.get(c, (None,))[KIND] == DOCTYPE for c in kids):
            out.append("<!DOCTYPE html>")
        if not has_head:
            out.append(CSP_META)
        for child in kids:
            self._node(child, out)
        return "".join(out)

    def _is(self, node_id: int, tag: str) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and node[KIND] == ELEMENT and node[NAME].lower() == tag

    def _node(self, start: int, out: list[str]) -> None:
        # Iterative: str items are written as they are, ints are nodes still to write.
        nodes = self.nodes
        stack: list[int | str] = [start]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
                continue
            node = nodes.get(item)
            if node is None:
                continue
            kind = node[KIND]
            if kind in (TEXT, CDATA):
                out.append(self._text(item, node))
            elif kind == ELEMENT:
                self._element(item, node, out, stack)
            elif kind == COMMENT:
                out.append("<!--" + node[VALUE].replace("--", "- -").replace(">", "&gt;")
                           + "-->")
            elif kind == DOCTYPE:
                name = node[NAME] if _TAG.fullmatch(node[NAME] or "") else "html"
                out.append(f"<!DOCTYPE {name}>")
            elif kind == DOCUMENT:
                stack.extend(reversed(node[CHILDREN]))

    def _text(self, node_id: int, node: tuple) -> str:
        parent = self.nodes.get(node[3])
        parent_tag = parent[NAME].lower() if parent is not None and parent[KIND] == ELEMENT \
            else ""
        if parent_tag == "style":
            return safe_css(node[VALUE]).replace("</", "<\\/")
        return escape(self.masker.text(node[VALUE]), quote=False)

    def _element(self, node_id: int, node: tuple, out: list[str],
                 stack: list[int | str]) -> None:
        tag = node[NAME]
        low = tag.lower()
        attrs = node[VALUE]
        if low in DROPPED or (low == "meta" and str(attrs.get("http-equiv", "")).lower()
                              in ("refresh", "content-security-policy", "set-cookie")):
            return
        if not _TAG.fullmatch(tag):
            tag, low = "span", "span"
        css = attrs.get("_cssText")
        if low == "link" and isinstance(css, str):
            # rrweb inlines a stylesheet link's rules: they become a style element.
            out.append("<style>" + safe_css(css).replace("</", "<\\/") + "</style>")
            return
        parts = [tag]
        value = checked = None
        if low in INPUT_TAGS:
            value, checked = input_state(self.state, node_id, node)
            value = self.masker.value(attrs, value)
        for name, raw in attrs.items():
            rendered = self._attribute(low, name, raw)
            if rendered:
                parts.append(rendered)
        if low == "input":
            if value:
                parts.append(f'value="{escape(value)}"')
            if checked:
                parts.append("checked")
        if low == "iframe":
            parts.append('sandbox=""')
            document = self._iframe_document(node[CHILDREN])
            if document:
                parts.append(f'srcdoc="{escape(document)}"')
        out.append("<" + " ".join(parts) + ">")
        if low == "head":
            out.append(CSP_META)
        if low in VOID:
            return
        stack.append(f"</{tag}>")
        kids = node[CHILDREN]
        if low == "textarea":
            stack.append(escape(value or "", quote=False))
            return
        if low == "style" and isinstance(css, str):
            stack.append(safe_css(css).replace("</", "<\\/"))
            return
        if low == "iframe":
            return
        shadow = [c for c in kids if self.nodes.get(c, (0,) * 6)[FLAGS] & SHADOW]
        light = [c for c in kids if c not in shadow] if shadow else kids
        stack.extend(reversed(light))
        if shadow:
            stack.append("</template>")
            stack.extend(reversed(shadow))
            stack.append('<template shadowrootmode="open">')

    def _iframe_document(self, kids: tuple) -> str:
        """The document recorded inside an iframe, written out the same way."""
        for child in kids:
            node = self.nodes.get(child)
            if node is not None and node[KIND] == DOCUMENT:
                return self.document(child)
        return ""

    def _attribute(self, tag: str, name: str, raw: object) -> str:
        if not isinstance(name, str) or not _ATTRIBUTE.fullmatch(name):
            return ""
        low = name.lower()
        if (low.startswith("on") or low.startswith("rr_") or low in ("_csstext", "srcdoc",
                                                                       "nonce", "integrity")
                or (tag in INPUT_TAGS and low in ("value", "checked"))
                or (tag == "iframe" and low in ("sandbox", "allow"))):
            return ""
        if raw is True:
            return name
        if raw is False or raw is None:
            return ""
        value = raw if isinstance(raw, str) else str(raw)
        if low in URL_ATTRIBUTES:
            if not (low == "href" and value.startswith("#")) and \
                    not (low == "src" and _SAFE_DATA.match(value)):
                name = "data-rr-" + low.replace(":", "-")
            value = self.masker.attribute(low, value)
        elif low == "style":
            value = safe_css(value)
        else:
            value = self.masker.attribute(low, value)
        if value.lower().lstrip().startswith(("javascript:", "vbscript:")):
            return ""
        return f'{name}="{escape(value)}"'


def safe_css(css: str) -> str:
    """CSS with nothing it could load: no @import, no url() other than data: images/fonts."""
    css = _CSS_IMPORT.sub("", css)
    css = _CSS_URL.sub(lambda m: m.group(0) if _SAFE_DATA.match(m.group(1))
                       else "url(about:invalid)", css)
    return _CSS_IMAGE_SET.sub(r"-rr-\1(", css) if "image-set" in css.lower() else css


# -- visible text -------------------------------------------------------------------------------

_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "title", "meta",
                        "link", "iframe", "object", "datalist", "select", "option", "base"})
_BLOCK = frozenset({"address", "article", "aside", "blockquote", "body", "br", "caption", "dd",
                    "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure",
                    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
                    "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
                    "table", "tbody", "tfoot", "thead", "tr", "ul", "legend", "label"})
_CELL = frozenset({"td", "th"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_VALUE_TYPES = frozenset({"", "text", "search", "email", "tel", "url", "number", "password",
                          "submit", "button", "reset", "date", "time", "datetime-local",
                          "month", "week"})


def visible_text(state: State, masker: Masker) -> str:
    """What a person would read: text outside head/scripts/styles and hidden elements, input
    and textarea values (masked), one line per block element."""
    if state.root is None or state.root not in state.nodes:
        return ""
    nodes = state.nodes
    pieces: list[str] = []
    stack: list[int | str] = [state.root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            continue
        node = nodes.get(item)
        if node is None:
            continue
        kind = node[KIND]
        if kind in (TEXT, CDATA):
            pieces.append(masker.text(node[VALUE]))
        elif kind == DOCUMENT:
            stack.extend(reversed(node[CHILDREN]))
        elif kind == ELEMENT:
            low = node[NAME].lower()
            attrs = node[VALUE]
            if low in _INVISIBLE or "hidden" in attrs or \
                    _HIDDEN_STYLE.search(str(attrs.get("style") or "")):
                continue
            if low in ("input", "textarea"):
                kind_of_input = str(attrs.get("type") or "").lower()
                if low == "textarea" or kind_of_input in _VALUE_TYPES:
                    value, _ = input_state(state, item, node)
                    pieces.append(" " + masker.value(attrs, value) + " ")
                continue
            if low in _BLOCK:
                pieces.append("\n")
                stack.append("\n")
            elif low in _CELL:
                pieces.append("\t")
            stack.extend(reversed(node[CHILDREN]))
    lines = []
    for line in "".join(pieces).split("\n"):
        cells = [_SPACES.sub(" ", cell).strip() for cell in line.split("\t")]
        text = "\t".join(cell for cell in cells if cell)
        if text:
            lines.append(text)
    return "\n".join(lines)
