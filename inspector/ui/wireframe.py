"""A wireframe of a rebuilt page: boxes for blocks, text, links, inputs, buttons and images.

This is not a browser. Style sheets are ignored; the page is laid out as one deterministic
vertical flow in DOM order, which is enough to see what a visitor saw and typed:

- block elements (``div``, ``p``, ``li``, headings, forms, tables rows...) start a new line, are
  indented 6 px per nesting level (up to a limit) and get an outline around what they hold;
- text, links and inline elements flow left to right and wrap at the block's right edge, with a
  fixed advance per character (16 px text: 8 px a character, 22 px a line; headings larger);
- inputs, selects, textareas, buttons, images and SVGs are boxes of the size their ``width`` and
  ``height`` attributes give, or a typical size; inputs show their current value (masked as the
  replay engine masks it) or, greyed, their placeholder;
- ``head``, scripts, styles, templates, ``hidden`` elements, ``display: none`` / ``visibility:
  hidden`` inline styles and hidden inputs take no room. Positioned, floated, flex and grid
  layouts all become the same vertical flow.

No Qt here: the layout runs in a worker, and :mod:`.replay_canvas` draws it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from inspector.core.pii import mask_text
from inspector.core.replay import PageState

# Box kinds.
BLOCK, TEXT, LINK, HEADING, INPUT, BUTTON, IMAGE, CHECKBOX, RADIO = range(9)

CHAR_WIDTH = 8.0
LINE_HEIGHT = 22.0
INDENT = 6.0
MAX_INDENT_LEVELS = 12
MARGIN = 8.0
MAX_BOXES = 20_000
MAX_TEXT = 2_000  # characters of one text node that are laid out
#: Font size relative to body text, for headings.
HEADING_SCALE = {"h1": 2.0, "h2": 1.5, "h3": 1.25, "h4": 1.1, "h5": 1.0, "h6": 0.9}

BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "tfoot", "thead", "tr", "ul", "legend", "menu", "search"})
INVISIBLE_TAGS = frozenset({
    "head", "script", "style", "noscript", "template", "title", "meta", "link", "base",
    "datalist", "option", "optgroup", "param", "source", "track", "area", "map"})
IMAGE_TAGS = frozenset({"img", "svg", "video", "canvas", "iframe", "picture", "object",
                        "embed", "audio"})
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset", "image"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*$")
_DEFAULT_SIZES = {"img": (120.0, 80.0), "svg": (24.0, 24.0), "video": (320.0, 180.0),
                  "canvas": (300.0, 150.0), "iframe": (300.0, 150.0), "object": (300.0, 150.0),
                  "embed": (300.0, 150.0), "picture": (120.0, 80.0), "audio": (300.0, 32.0)}


@dataclass(frozen=True, slots=True)
class Box:
    kind: int
    x: float
    y: float
    w: float
    h: float
    text: str = ""
    node: int = -1
    muted: bool = False  # a placeholder rather than a value
    checked: bool = False
    scale: float = 1.0  # font size relative to body text


@dataclass
class Layout:
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)
    #: The document, html and body ids: a scroll of one of these scrolls the page.
    document_ids: set[int] = field(default_factory=set)
    truncated: bool = False


def layout_page(page: PageState, width: int, *, mask_pii: bool = False) -> Layout:
    """Lay ``page`` out at ``width`` CSS pixels (its viewport width)."""
    return _Flow(page, float(max(width, 160)), mask_pii).run()


class _Flow:
    def __init__(self, page: PageState, width: float, mask_pii: bool) -> None:
        self.page = page
        self.width = width
        self.mask_pii = mask_pii
        self.boxes: list[Box] = []
        self.y = MARGIN
        self.x = MARGIN
        self.left = MARGIN
        self.right = width - MARGIN
        self.line_height = 0.0
        self.document_ids: set[int] = set()
        self.truncated = False

    def run(self) -> Layout:
        page = self.page
        if page.root is None:
            return Layout(self.width, 0.0)
        self.document_ids.add(page.root)
        body = self._find_body()
        if body is not None:
            self._element_children(body, depth=0, style=TEXT)
        self._new_line()
        boxes = sorted(self.boxes, key=lambda b: (b.y, b.x))
        return Layout(self.width, self.y + MARGIN, boxes, self.document_ids, self.truncated)

    def _find_body(self) -> int | None:
        """The body element (or the html element, or the document when neither exists)."""
        page = self.page
        html = next((c for c in page.children(page.root) if _tag(page, c) == "html"), None)
        if html is None:
            return page.root
        self.document_ids.add(html)
        body = next((c for c in page.children(html) if _tag(page, c) == "body"), None)
        if body is None:
            return html
        self.document_ids.add(body)
        return body

    # -- the flow ------------------------------------------------------------------------------
    def _new_line(self) -> None:
        if self.x > self.left or self.line_height:
            self.y += max(self.line_height, LINE_HEIGHT if self.x > self.left else 0.0)
        self.x = self.left
        self.line_height = 0.0

    def _add(self, box: Box) -> bool:
        if len(self.boxes) >= MAX_BOXES:
            self.truncated = True
            return False
        self.boxes.append(box)
        return True

    def _place(self, w: float, h: float) -> tuple[float, float]:
        """Room for an inline box of ``w`` x ``h`` on the current line, or the next."""
        w = min(w, self.right - self.left)
        if self.x > self.left and self.x + w > self.right:
            self._new_line()
        x, y = self.x, self.y
        self.x += w + 4.0
        self.line_height = max(self.line_height, h + 4.0)
        return x, y

    def _text(self, text: str, kind: int, node: int, scale: float = 1.0) -> None:
        text = _SPACES.sub(" ", text[:MAX_TEXT])
        if not text.strip():
            if self.x > self.left:
                self.x += CHAR_WIDTH * scale
            return
        if self.x == self.left:
            text = text.lstrip()
        advance = CHAR_WIDTH * scale
        height = LINE_HEIGHT * scale
        while text:
            room = int((self.right - self.x) // advance)
            if room <= 0 and self.x > self.left:
                self._new_line()
                continue
            room = max(room, 1)
            if len(text) <= room:
                piece, text = text, ""
            else:
                cut = text.rfind(" ", 0, room + 1)
                if cut <= 0 and self.x > self.left:
                    self._new_line()
                    continue
                cut = room if cut <= 0 else cut
                piece, text = text[:cut], text[cut:].lstrip()
            piece = piece.rstrip() if text else piece
            if piece and not self._add(Box(kind, self.x, self.y, len(piece) * advance, height,
                                           piece, node, scale=scale)):
                return
            self.x += len(piece) * advance
            self.line_height = max(self.line_height, height)
            if text:
                self._new_line()

    # -- elements --------------------------------------------------------------------------------
    def _element_children(self, node_id: int, depth: int, style: int,
                          scale: float = 1.0) -> None:
        # An explicit stack (pages nest deeper than Python's recursion limit) of three kinds of
        # item: a node to lay out, the children of a node, the end of a block.
        stack: list[tuple] = [("children", node_id, depth, style, scale)]
        while stack and not self.truncated:
            item = stack.pop()
            if item[0] == "node":
                self._node(*item[1:], stack)
            elif item[0] == "children":
                _, parent, level, text_style, text_scale = item
                stack.extend(("node", child, level, text_style, text_scale)
                             for child in reversed(self.page.children(parent)))
            else:
                self._end_block(*item[1:])

    def _end_block(self, node: int, start_y: float, outer: tuple[float, float]) -> None:
        """Close a block: its outline around what it holds, the outer margins back."""
        self._new_line()
        if self.y > start_y:
            left, right = self.left, self.right
            self._add(Box(BLOCK, left - INDENT / 2, start_y - 2, right - left + INDENT,
                          self.y - start_y + 2, node=node))
            self.y += 4.0
        self.left, self.right = outer
        self.x = self.left

    def _node(self, node_id: int, depth: int, style: int, scale: float,
              stack: list[tuple]) -> None:
        view = self.page.node(node_id, mask_pii=self.mask_pii)
        if view is None:
            return
        if view.kind in ("text", "cdata"):
            text = view.text or ""
            if self.mask_pii and text.strip():
                text = mask_text(text)[0]
            self._text(text, style, node_id, scale)
            return
        if view.kind != "element":
            return
        tag = view.tag.lower()
        attrs = view.attributes
        if tag in INVISIBLE_TAGS or "hidden" in attrs or \
                _HIDDEN_STYLE.search(str(attrs.get("style") or "")):
            return
        if tag == "br":
            self._new_line()
            return
        if tag in ("input", "textarea", "select", "button"):
            self._control(view, tag)
            return
        if tag in IMAGE_TAGS:
            w, h = _size(attrs, *_DEFAULT_SIZES[tag])
            x, y = self._place(w, h)
            label = str(attrs.get("alt") or attrs.get("aria-label") or tag)
            self._add(Box(IMAGE, x, y, min(w, self.right - self.left), h,
                          self._shown(label), node_id))
            return
        if tag == "hr":
            self._new_line()
            self._add(Box(BLOCK, self.left, self.y + 4, self.right - self.left, 1, node=node_id))
            self.y += 10
            return
        child_style, child_scale = style, scale
        if tag == "a":
            child_style = LINK
        elif tag in HEADING_SCALE:
            child_style, child_scale = HEADING, HEADING_SCALE[tag]
        if tag in BLOCK_TAGS:
            self._new_line()
            outer = (self.left, self.right)
            level = depth + 1
            if level <= MAX_INDENT_LEVELS and self.right - self.left > 4 * INDENT + 80:
                self.left, self.right = self.left + INDENT, self.right - INDENT
            self.x = self.left
            stack.append(("end", node_id, self.y, outer))
            stack.append(("children", node_id, level, child_style, child_scale))
            return
        stack.append(("children", node_id, depth, child_style, child_scale))

    def _control(self, view, tag: str) -> None:
        attrs = view.attributes
        kind = str(attrs.get("type") or "").lower()
        if tag == "input" and kind == "hidden":
            return
        if tag == "input" and kind in ("checkbox", "radio"):
            x, y = self._place(14, 14)
            self._add(Box(CHECKBOX if kind == "checkbox" else RADIO, x, y + 3, 14, 14,
                          node=view.id, checked=bool(view.checked)))
            return
        if tag == "button" or (tag == "input" and kind in BUTTON_INPUT_TYPES):
            label = (self._inner_text(view.id) if tag == "button"
                     else str(attrs.get("value") or kind.capitalize()))
            label = self._shown(label.strip() or "button")
            w, h = _size(attrs, len(label) * CHAR_WIDTH + 24, 28)
            x, y = self._place(w, h)
            self._add(Box(BUTTON, x, y, min(w, self.right - x), h, label, view.id))
            return
        default_w, default_h = (240.0, 64.0) if tag == "textarea" else (200.0, 28.0)
        w, h = _size(attrs, default_w, default_h)
        x, y = self._place(w, h)
        value = view.value or ""
        muted = False
        if not value:
            value, muted = self._shown(str(attrs.get("placeholder") or "")), True
        self._add(Box(INPUT, x, y, min(w, self.right - x), h, value, view.id, muted=muted))

    def _inner_text(self, node_id: int) -> str:
        parts: list[str] = []
        stack = [node_id]
        while stack and len(parts) < 40:
            current = stack.pop()
            view = self.page.node(current)
            if view is None:
                continue
            if view.kind == "text" and view.text:
                parts.append(view.text)
            stack.extend(reversed(view.children))
        return _SPACES.sub(" ", " ".join(parts))[:80]

    def _shown(self, text: str) -> str:
        return mask_text(text)[0] if self.mask_pii and text.strip() else text


def _tag(page: PageState, node_id: int) -> str:
    view = page.node(node_id)
    return view.tag.lower() if view is not None and view.kind == "element" else ""


def _size(attrs, default_w: float, default_h: float) -> tuple[float, float]:
    return _length(attrs.get("width"), default_w), _length(attrs.get("height"), default_h)


def _length(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(min(max(value, 1), 4000))
    if isinstance(value, str):
        match = _NUMBER.match(value)
        if match:
            return float(min(max(float(match.group(1)), 1.0), 4000.0))
    return default
