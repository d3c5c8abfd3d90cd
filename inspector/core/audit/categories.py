"""What kind of thing a flagged event captured, and how serious a session's finding is.

Every rrweb event falls in exactly one category (docs/audit-rules.md lists them); the same
definition exists twice, as SQL for the flagging query and as Python for one event, and a test
keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPED_INPUT = "typed_input"
PAGE_CONTENT = "page_content"
PAGE_URLS = "page_urls"
POINTER_SCROLL = "pointer_scroll"
CONSOLE = "console"
NETWORK = "network"
CUSTOM = "custom"

#: In report order.
CATEGORIES = (TYPED_INPUT, PAGE_CONTENT, PAGE_URLS, POINTER_SCROLL, CONSOLE, NETWORK, CUSTOM)
LABELS = {TYPED_INPUT: "typed input", PAGE_CONTENT: "page content", PAGE_URLS: "page URLs",
          POINTER_SCROLL: "pointer and scroll", CONSOLE: "console", NETWORK: "network",
          CUSTOM: "custom"}
#: Categories whose events can hold personal data; only these are scanned for it.
CONTENT_BEARING = frozenset(CATEGORIES) - {POINTER_SCROLL}

CONSOLE_PLUGIN = "rrweb/console@1"
NETWORK_PLUGIN = "rrweb/network@1"

#: Incremental sources that are the person moving, pointing, scrolling, resizing or selecting:
#: MouseMove, MouseInteraction, Scroll, ViewportResize, TouchMove, MediaInteraction, Drag,
#: Selection.
POINTER_SOURCES = (1, 2, 3, 4, 6, 7, 12, 14)
INPUT_SOURCE = 5
LOG_SOURCE = 11

# Everything not named here is page content: FullSnapshot, Mutation, StyleSheetRule,
# CanvasMutation, Font, StyleDeclaration, AdoptedStyleSheet, CustomElement, Asset, the load
# events, and incremental sources newer than this tool.
def category_sql(plugin: str) -> str:
    """The category as SQL over ``type``, ``source`` and ``plugin`` (an expression giving
    ``data.plugin``, read only for Plugin events)."""
    return f"""CASE
  WHEN type = 4 THEN '{PAGE_URLS}'
  WHEN type = 5 THEN '{CUSTOM}'
  WHEN type = 6 THEN CASE {plugin}
      WHEN '{CONSOLE_PLUGIN}' THEN '{CONSOLE}' WHEN '{NETWORK_PLUGIN}' THEN '{NETWORK}'
      ELSE '{CUSTOM}' END
  WHEN type = 3 AND source = {INPUT_SOURCE} THEN '{TYPED_INPUT}'
  WHEN type = 3 AND source = {LOG_SOURCE} THEN '{CONSOLE}'
  WHEN type = 3 AND source IN ({", ".join(map(str, POINTER_SOURCES))}) THEN '{POINTER_SCROLL}'
  ELSE '{PAGE_CONTENT}' END"""


def category_of(kind: int, source: int | None, data: object) -> str:
    """The category of one event (``type``, ``data.source``, parsed ``data``)."""
    if kind == 4:
        return PAGE_URLS
    if kind == 5:
        return CUSTOM
    if kind == 6:
        plugin = data.get("plugin") if isinstance(data, dict) else None
        return {CONSOLE_PLUGIN: CONSOLE, NETWORK_PLUGIN: NETWORK}.get(plugin, CUSTOM)
    if kind == 3 and source == INPUT_SOURCE:
        return TYPED_INPUT
    if kind == 3 and source == LOG_SOURCE:
        return CONSOLE
    if kind == 3 and source in POINTER_SOURCES:
        return POINTER_SCROLL
    return PAGE_CONTENT


HIGH, MEDIUM, LOW = "high", "medium", "low"


def severity(by_category: Mapping[str, int], page_text_pii: int) -> str:
    """High when typed input, console or network data, or page text holding personal data
    were captured; medium for other page content, page URLs and custom events; low for
    pointer and scroll alone."""
    if by_category.get(TYPED_INPUT) or by_category.get(CONSOLE) or by_category.get(NETWORK) \
            or page_text_pii:
        return HIGH
    if by_category.get(PAGE_CONTENT) or by_category.get(PAGE_URLS) or by_category.get(CUSTOM):
        return MEDIUM
    return LOW
