"""The replay engine: a session's page rebuilt at any instant, exactly and fast.

``ReplaySession.load(con, archive_id, session_id)`` (or ``ReplaySession.from_events(events)``)
reads the page-changing events once; ``session.seek(ms)`` returns a :class:`PageState` — URL,
viewport, live node count, node views for drawing a wireframe, ``text()`` and ``html()`` — in any
order of instants. See docs/replay-engine.md for the semantics and the design.

- :mod:`.ops` turns rrweb event data into compact operations, once;
- :mod:`.dom` is the node store and rrweb's rules for changing it;
- :mod:`.checkpoints` keeps saved states spaced by DOM work, within a memory budget;
- :mod:`.engine` is the seekable session; :mod:`.page` what a seek returns;
- :mod:`.serialize` writes safe HTML and visible text; :mod:`.privacy` masks what they show;
- :mod:`.loader` reads a session's events from the store.
"""

from .engine import RawEvent, ReplaySession
from .page import NodeView, PageState

__all__ = ["NodeView", "PageState", "RawEvent", "ReplaySession"]
