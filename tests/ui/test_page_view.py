"""The page view renders a hostile recording without a single network request.

A local HTTP server counts every request it receives; the recording's DOM points images,
style sheets, an iframe, CSS url()s, srcset, poster, script, prefetch and a refresh at it. The
page view must show the page and the server must see nothing. A control loads the same markup,
unsanitised, in a plain WebEngine view, to prove the server would have counted.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from PySide6.QtCore import QUrl

from inspector.ui import page_view
from inspector.ui.player import PAGE_TAB

from .support import select_session

SESSION = "hostile-page"
T0 = 1_700_000_000_000


class _Counter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        body = b"x"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return None


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def element(node_id: int, tag: str, attributes: dict | None = None,
            children: list | None = None) -> dict:
    return {"type": 2, "tagName": tag, "attributes": attributes or {},
            "childNodes": children or [], "id": node_id}


def text(node_id: int, value: str, *, style: bool = False) -> dict:
    node = {"type": 3, "textContent": value, "id": node_id}
    if style:
        node["isStyle"] = True
    return node


def hostile_recording(path, base: str):
    head = element(3, "head", children=[
        element(4, "link", {"rel": "stylesheet", "href": f"{base}/sheet.css"}),
        element(5, "style", children=[text(6, f"@import url({base}/import.css); body "
                                             f"{{ background: url('{base}/bg.png') }}",
                                          style=True)]),
        element(7, "link", {"rel": "prefetch", "href": f"{base}/prefetch"}),
        element(8, "meta", {"http-equiv": "refresh", "content": f"0; url={base}/refresh"}),
        element(9, "script", {"src": f"{base}/evil.js"}),
    ])
    body = element(10, "body", {"style": f"background-image: url({base}/body.png)"}, [
        element(11, "h1", children=[text(12, "Hello page view")]),
        element(13, "img", {"src": f"{base}/x.png", "srcset": f"{base}/x2.png 2x"}),
        element(14, "iframe", {"src": f"{base}/frame.html"}),
        element(15, "div", {"style": f"width:50px;height:50px;background:url({base}/div.png)"}),
        element(16, "video", {"poster": f"{base}/poster.png", "src": f"{base}/movie.mp4"}),
        element(17, "input", {"type": "image", "src": f"{base}/button.png"}),
        element(18, "object", {"data": f"{base}/object.swf"}),
        element(19, "a", {"href": f"{base}/link", "ping": f"{base}/ping"},
                [text(20, "a link")]),
        element(21, "svg", {}, [element(22, "image", {"href": f"{base}/svg.png"})]),
    ])
    document = {"type": 0, "childNodes": [element(2, "html", children=[head, body])], "id": 1}
    events = [
        {"type": 4, "data": {"href": f"{base}/page", "width": 800, "height": 600},
         "timestamp": T0},
        {"type": 2, "data": {"node": document, "initialOffset": {"top": 0, "left": 0}},
         "timestamp": T0 + 10},
        {"type": 3, "data": {"source": 0, "texts": [], "attributes": [], "removes": [],
                             "adds": [{"parentId": 10, "nextId": None,
                                       "node": element(30, "img", {"src": f"{base}/late.png"})}]},
         "timestamp": T0 + 5_000},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 13, "x": 100, "y": 100},
         "timestamp": T0 + 9_000},
    ]
    path.write_bytes(orjson.dumps({SESSION: events}))
    return path


def test_the_page_view_fetches_nothing(qtbot, make_window, tmp_path, server):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    recording = hostile_recording(tmp_path / "hostile.json", base)
    window = make_window()
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.open_paths([recording])
    select_session(qtbot, window, SESSION)
    player = window.player
    player.show_page_view()
    view = player.page_view
    assert view is not None
    if not view.available:
        pytest.skip(f"Qt WebEngine is not available here: {view.reason}")
    qtbot.waitUntil(lambda: view.load_count >= 1, timeout=60_000)
    shown = []
    view.web_view.page().toPlainText(shown.append)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert "Hello page view" in shown[0]

    loads = view.load_count
    player.playback.seek(T0 + 6_000)  # after the mutation adding another image
    qtbot.waitUntil(lambda: view.load_count > loads, timeout=60_000)
    qtbot.wait(1_500)  # time for anything that would still be fetched to arrive
    assert server.seen == []
    assert player.tabs.currentIndex() == PAGE_TAB

    # Second line of defence: markup the sanitiser would never let through, put straight into
    # the page view's profile, is stopped by its request interceptor.
    web = view.web_view
    with qtbot.waitSignal(web.loadFinished, timeout=60_000):
        web.setHtml(f'<img src="{base}/raw.png"><link rel="stylesheet" href="{base}/raw.css">'
                    f'<iframe src="{base}/raw.html"></iframe>', QUrl(f"{base}/"))
    qtbot.waitUntil(lambda: f"{base}/raw.png" in page_view.blocked_requests(), timeout=20_000)
    qtbot.wait(1_000)
    assert server.seen == []


def test_the_control_view_does_fetch(qtbot, server):
    """Without the engine's sanitising and the private profile, the same markup is fetched:
    the counting server is what the test above relies on."""
    from PySide6.QtWebEngineWidgets import QWebEngineView

    base = f"http://127.0.0.1:{server.server_address[1]}"
    view = QWebEngineView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loadFinished, timeout=60_000):
        view.setHtml(f'<img src="{base}/x.png"><link rel="stylesheet" href="{base}/s.css">',
                     QUrl(f"{base}/"))
    qtbot.waitUntil(lambda: len(server.seen) >= 1, timeout=20_000)
    assert "/x.png" in server.seen or "/s.css" in server.seen


def test_without_webengine_the_wireframe_stays_with_a_note(qtbot, make_window, monkeypatch,
                                                           sample_store):
    monkeypatch.setenv(page_view.DISABLE_ENV, "1")
    window = make_window(sample_store)
    window.player.show_page_view()
    view = window.player.page_view
    assert not view.available
    note = view.findChild(type(window.player.bar.clock), "page_view_note")
    assert note is not None and "not available" in note.text()
    window.player.tabs.setCurrentIndex(0)
    from .support import expected_sessions

    select_session(qtbot, window, expected_sessions()["frank-1"]["session_id"])
    assert window.player.frame is not None and window.player.frame.image is not None
