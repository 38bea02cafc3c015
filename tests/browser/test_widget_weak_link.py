"""The partner's side on a weak link (C1, C6, K3): Chromium's own network emulation (CDP) at
2G-like conditions — the launcher shows, the chat is usable and its first bytes stay small;
messages typed offline wait, visibly, then reach the agent once and in order; a proxy that
refuses WebSocket leaves the chat on long-polling; the help centre's article page stays light
and readable without its scripts; the launcher's pill fits its frame on a phone and a desktop."""
import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_chat_widget import chat_server, widget_of  # noqa: F401  (chat_server: a fixture)
from tests.browser.test_sign_in_and_admin import sign_in

# The live server's origin is declared on the demo channel (chat_server) for every test here.
pytestmark = pytest.mark.usefixtures("chat_server")

# About 2G/EDGE: 250 kbit/s down, 50 kbit/s up, 300 ms of latency on every request.
TWO_G = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 50_000 / 8}


class Traffic:
    """Every request of a page (and of its same-process frames) and its transferred bytes, as
    Chromium's network layer counts them (compressed, headers included), WebSocket frames too."""

    def __init__(self, context, page, conditions=None):
        self.cdp = context.new_cdp_session(page)
        self.urls, self.bytes, self.ws_bytes, self.sockets = {}, {}, 0, []
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.loadingFinished", lambda e: self.bytes.__setitem__(e["requestId"], e["encodedDataLength"]))
        self.cdp.on("Network.webSocketCreated", lambda e: self.sockets.append(e["url"]))
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.on("Network.webSocketFrameSent", self._frame)
        self.cdp.send("Network.enable")
        if conditions:
            self.cdp.send("Network.emulateNetworkConditions", conditions)

    def _frame(self, event):
        self.ws_bytes += len(event["response"]["payloadData"].encode()) + 2  # + the frame's header

    def requests(self, keep=lambda url: True):
        return {self.urls.get(rid, "?"): size for rid, size in self.bytes.items() if keep(self.urls.get(rid, ""))}

    def total(self, keep=lambda url: True):
        return sum(self.requests(keep).values())


def is_widgets(url):
    """What the widget brings: the loader and everything the frame asks for (not the host page)."""
    return "/demo/partner" not in url and not url.endswith("/favicon.ico")


def agent_console(browser, base, live_app):
    """An agent's console, open on a good link: someone is available to chat."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    agent = context.new_page()
    sign_in(agent, base, live_app, "agent1@novalead.com")
    agent.goto(f"{base}/chat/console")
    expect(agent.locator("#nd-connection")).to_have_text("Connecté.")
    return context, agent


def test_on_a_2g_link_the_launcher_shows_at_once_and_the_chat_is_usable_within_seconds(browser, live_server, live_app):
    base = live_server
    agent_context, _ = agent_console(browser, base, live_app)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    traffic = Traffic(context, page, TWO_G)

    started = time.monotonic()
    page.goto(f"{base}/demo/partner", wait_until="load")
    host_loaded = time.monotonic()
    chat = widget_of(page)
    launcher = chat.get_by_role("button", name="Besoin d'aide ?")
    expect(launcher).to_be_visible(timeout=10000)
    launcher_seen = time.monotonic()
    frame = page.frame(url=re.compile(r"/widget/frame/"))
    # When the launcher was painted, on the same clock as the host page's load event.
    figures = {
        "host_load": page.evaluate("performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventStart"),
        "host_start": page.evaluate("performance.timeOrigin"),
        "launcher_paint": frame.evaluate("performance.timeOrigin + (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime"),
        # The emulation reaches the frame: each of its files waited at least the link's latency.
        "frame_script_ms": frame.evaluate("performance.getEntriesByType('resource').find(r => r.name.includes('/widget/assets/frame.') && r.name.endsWith('.js')).duration"),
    }
    assert figures["frame_script_ms"] >= 300, figures
    launcher_after_load = figures["launcher_paint"] - figures["host_load"]
    assert launcher_after_load == launcher_after_load, "the frame reported no paint"  # not NaN
    assert launcher_after_load < 2000, figures
    assert (launcher_seen - host_loaded) < 2.0

    # Usable: open it, the question can be typed and sent.
    launcher.click()
    question = chat.get_by_label("Votre question")
    expect(question).to_be_editable(timeout=10000)
    usable = time.monotonic() - host_loaded
    question.fill("Le rapport de clôture mensuelle reste vide")
    start = chat.get_by_role("button", name="Démarrer la discussion")
    expect(start).to_be_enabled()
    assert usable < 5.0, f"usable {usable:.2f} s after the host page's load"

    widget_bytes = traffic.total(is_widgets) + traffic.ws_bytes
    assert widget_bytes < 60_000, traffic.requests(is_widgets)
    assert traffic.sockets, "the widget should start on WebSocket"

    start.click()
    expect(chat.get_by_text("Un agent va vous répondre")).to_be_visible(timeout=15000)
    report = {
        "launcher_paint_after_host_load_ms": round(launcher_after_load),
        "launcher_paint_after_navigation_ms": round(figures["launcher_paint"] - figures["host_start"]),
        "host_load_after_navigation_ms": round(figures["host_load"] - figures["host_start"]),
        "chat_usable_after_host_load_s": round(usable, 2),
        "widget_bytes_before_first_message": widget_bytes,
        "websocket_bytes": traffic.ws_bytes,
        "requests": {re.sub(r"^https?://[^/]+", "", u).split("&t=")[0][:70]: b for u, b in traffic.requests(is_widgets).items()},
        "total_s": round(time.monotonic() - started, 2),
    }

    # The next page of the partner's software: the frame's script and style come from the
    # browser's cache (content-hashed, immutable), the loader too (five minutes).
    first_visit = set(traffic.bytes)
    page.goto(f"{base}/demo/partner", wait_until="load")
    expect(launcher).to_be_visible()
    again = {traffic.urls[rid]: size for rid, size in traffic.bytes.items() if rid not in first_visit and is_widgets(traffic.urls[rid])}
    fetched = [u for u, size in again.items() if size > 0]
    assert not [u for u in fetched if "/widget/assets/" in u or u.endswith("/widget.js")], again
    report["next_page_http_bytes"] = sum(again.values())
    report["next_page_requests"] = {re.sub(r"^https?://[^/]+", "", u)[:70]: b for u, b in again.items()}
    assert report["next_page_http_bytes"] < 6000, again
    print("2G figures:", json.dumps(report, indent=1))
    context.close()
    agent_context.close()


def test_messages_typed_offline_wait_visibly_then_reach_the_agent_once_and_in_order(browser, live_server, live_app):
    from app.extensions import db
    from app.models import ChatMessage

    base = live_server
    agent_context, agent = agent_console(browser, base, live_app)

    visitor_context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    visitor = visitor_context.new_page()
    visitor.goto(f"{base}/demo/partner")
    chat = widget_of(visitor)
    chat.get_by_role("button", name="Besoin d'aide ?").click()
    chat.get_by_label("Votre question").fill("Les échéances de décembre ne s'affichent pas")
    chat.get_by_role("button", name="Démarrer la discussion").click()
    expect(chat.get_by_text("Un agent va vous répondre")).to_be_visible()
    agent.locator("#nd-waiting button").first.click()
    agent.get_by_role("button", name="Accepter").click()
    expect(chat.get_by_text("Fatou Ndiaye vous répond.")).to_be_visible()

    visitor_context.set_offline(True)
    expect(chat.get_by_text("Connexion perdue")).to_be_visible(timeout=15000)
    typed = ["Premier : agence de Kaolack", "Deuxième : depuis lundi", "Troisième : capture jointe demain"]
    box = chat.get_by_label("Votre message")
    for text in typed:
        box.fill(text)
        box.press("Enter")
    pending = chat.locator(".nd-pending")
    expect(pending).to_have_count(3)
    for item, text in zip(pending.all(), typed):
        expect(item).to_contain_text(text)
        expect(item).to_contain_text("En attente")
    # Nothing shows as sent while nothing is stored.
    expect(chat.locator(".nd-mine[data-seq]", has_text="Premier")).to_have_count(0)
    with live_app.app_context():
        assert db.session.query(ChatMessage).filter(ChatMessage.body.in_(typed)).count() == 0
        db.session.remove()

    visitor_context.set_offline(False)
    log = agent.locator("#nd-log")
    expect(log).to_contain_text(typed[2], timeout=30000)
    expect(chat.locator(".nd-pending")).to_have_count(0, timeout=15000)
    arrived = [t for t in agent.locator("#nd-log li").all_inner_texts() if any(m in t for m in typed)]
    assert len(arrived) == 3 and all(m in a for m, a in zip(typed, arrived)), arrived
    with live_app.app_context():
        stored = db.session.query(ChatMessage).filter(ChatMessage.body.in_(typed)).order_by(ChatMessage.seq).all()
        assert [m.body for m in stored] == typed  # once each, numbered in the order typed
        db.session.remove()
    seqs = [int(s) for s in chat.locator(".nd-mine[data-seq]").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == sorted(seqs)
    agent_context.close()
    visitor_context.close()


@pytest.fixture
def websocket_refused(live_server, live_app):
    """The server answers no WebSocket handshake (as a proxy refusing the upgrade does)."""
    engine = live_app.extensions["socketio"].server.eio
    engine.transports = ["polling"]
    yield live_server
    engine.transports = ["polling", "websocket"]


def cut_websockets(page):
    """A proxy that lets the handshake through, then cuts every WebSocket at once."""
    cut = []

    def handler(ws):
        cut.append(ws.url)
        ws.close(code=1011)

    page.route_web_socket(re.compile(r".*/socket\.io/.*transport=websocket.*"), handler)
    return cut


@pytest.mark.parametrize("proxy", ["refused", "cut"])
def test_with_websocket_blocked_the_chat_runs_on_long_polling(browser, live_server, live_app, request, proxy):
    base = request.getfixturevalue("websocket_refused") if proxy == "refused" else live_server
    agent_context, agent = agent_console(browser, base, live_app)
    visitor_context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    visitor = visitor_context.new_page()
    cut = cut_websockets(visitor) if proxy == "cut" else []
    traffic = Traffic(visitor_context, visitor)
    visitor.goto(f"{base}/demo/partner")
    chat = widget_of(visitor)
    chat.get_by_role("button", name="Besoin d'aide ?").click()
    chat.get_by_label("Votre question").fill("Impossible d'imprimer le tableau d'amortissement")
    chat.get_by_role("button", name="Démarrer la discussion").click()
    expect(chat.get_by_text("Un agent va vous répondre")).to_be_visible(timeout=15000)
    agent.locator("#nd-waiting button").first.click()
    agent.get_by_role("button", name="Accepter").click()
    expect(chat.get_by_text("Fatou Ndiaye vous répond.")).to_be_visible()
    agent.locator("#nd-text").fill("Quel navigateur utilisez-vous ?")
    agent.locator("#nd-text").press("Enter")
    expect(chat.get_by_text("Quel navigateur utilisez-vous ?")).to_be_visible()
    chat.get_by_label("Votre message").fill("Firefox, derrière le proxy de l'agence")
    chat.get_by_label("Votre message").press("Enter")
    expect(agent.locator("#nd-log")).to_contain_text("Firefox, derrière le proxy de l'agence")
    expect(chat.locator(".nd-pending")).to_have_count(0)

    assert traffic.sockets or cut, "the widget tried WebSocket first"
    polled = [u for u in traffic.urls.values() if "/socket.io/" in u and "transport=polling" in u]
    assert len(polled) >= 3, "the conversation went over long-polling"
    agent_context.close()
    visitor_context.close()


@pytest.fixture
def longest_article(live_server, live_app):
    """The demo's longest public article: the heaviest first load a partner gets."""
    from app.extensions import db
    from app.models import KbArticle

    with live_app.app_context():
        articles = db.session.query(KbArticle).filter_by(status="published", visibility="public").all()
        article = max(articles, key=lambda a: len(a.body or ""))
        url = f"{live_server}/help/articles/{article.id}-{article.slug}"
        title = article.title
        db.session.remove()
    return url, title


def test_an_article_weighs_under_100_kb_and_reads_without_its_scripts(browser, longest_article):
    url, title = longest_article
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    traffic = Traffic(context, page, TWO_G)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    weight = traffic.total()
    assert weight < 100_000, traffic.requests()
    print("article first load:", weight, "bytes", json.dumps(traffic.requests(), indent=1))
    # Any script it has waits for the page (never blocks the reading).
    blocking = page.locator("script[src]:not([defer]):not([async]):not([type=module])")
    expect(blocking).to_have_count(0)
    context.close()

    # Scripts off: the article is all there, server-rendered.
    context = browser.new_context(locale="fr-FR", java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    body = page.locator(".hc-body")
    expect(body).to_be_visible()
    assert len(body.inner_text()) > 200
    expect(page.get_by_role("button", name="Oui")).to_be_visible()
    screenshot(page, "help-article-no-script")
    context.close()


LONG_LABEL = "Une question\u00a0? Écrivez au support de NOVA LEAD, un conseiller vous répond"


@pytest.mark.parametrize("width", [360, 1366])
def test_the_launchers_pill_fits_its_frame_and_keeps_its_question_mark(browser, live_server, width):
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 740}, is_mobile=width < 520)
    page = context.new_page()
    page.goto(f"{live_server}/demo/partner")
    chat = widget_of(page)
    launcher = chat.get_by_role("button", name="Besoin d'aide ?")
    expect(launcher).to_be_visible()
    frame = page.frame(url=re.compile(r"/widget/frame/"))
    # Whatever the label, the frame follows the pill (its script watches the pill's size).
    for label, lines in (("Besoin d'aide\u00a0?", 1), (LONG_LABEL, None)):
        frame.evaluate("label => document.querySelector('.nd-launcher-text').textContent = label", label)
        page.wait_for_function(
            """() => { const f = document.querySelector('iframe');
                        const b = f.contentDocument.querySelector('.nd-launcher').getBoundingClientRect();
                        return Math.abs(f.clientWidth - (b.width + 16)) <= 1 && Math.abs(f.clientHeight - (b.height + 16)) <= 1
                               || f.clientWidth === window.innerWidth - 16; }"""
        )
        geometry = frame.evaluate(
            """() => { const b = document.querySelector('.nd-launcher').getBoundingClientRect();
                        const t = document.querySelector('.nd-launcher-text');
                        const range = document.createRange();
                        const text = t.firstChild;
                        const mark = text.data.indexOf('?');
                        range.setStart(text, mark); range.setEnd(text, mark + 1);
                        const q = range.getBoundingClientRect();
                        range.setStart(text, mark - 2); range.setEnd(text, mark - 1);
                        const before = range.getBoundingClientRect();
                        const lineHeight = parseFloat(getComputedStyle(t).lineHeight) || 20;
                        return {left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: innerWidth, height: innerHeight,
                                lines: Math.round(t.getBoundingClientRect().height / lineHeight), questionTop: q.top, beforeTop: before.top}; }"""
        )
        # The pill and its shadow's margin lie inside the frame: nothing clipped.
        assert geometry["left"] >= 4 and geometry["top"] >= 4, geometry
        assert geometry["right"] <= geometry["width"] - 4 and geometry["bottom"] <= geometry["height"] - 4, geometry
        # « ? » stays on the line of the word before it.
        assert geometry["questionTop"] == geometry["beforeTop"], geometry
        if lines:
            assert geometry["lines"] == lines, geometry
        frame_box = page.locator("iframe").bounding_box()
        assert frame_box["x"] >= 0 and frame_box["x"] + frame_box["width"] <= width
        screenshot(page, f"widget-launcher-{width}-{'long' if lines is None else 'default'}")
    context.close()


def test_the_launcher_needs_neither_the_script_nor_the_connection_to_show(browser, live_server):
    """The frame's script never arrives (and so no Socket.IO either): the launcher is there all
    the same, whole in its frame; the chat opens once the script comes."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    held, sockets = [], []
    page.on("request", lambda request: "/socket.io/" in request.url and sockets.append(request.url))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.route(re.compile(r"/widget/assets/frame\.[0-9a-f]+\.js$"), lambda route: held.append(route))
    page.goto(f"{live_server}/demo/partner", wait_until="domcontentloaded")
    chat = widget_of(page)
    launcher = chat.get_by_role("button", name="Besoin d'aide ?")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    frame_box = page.locator("iframe").bounding_box()
    pill = launcher.bounding_box()
    assert frame_box["x"] <= pill["x"] and pill["x"] + pill["width"] <= frame_box["x"] + frame_box["width"], (frame_box, pill)
    assert frame_box["y"] <= pill["y"] and pill["y"] + pill["height"] <= frame_box["y"] + frame_box["height"], (frame_box, pill)
    assert sockets == []  # nothing connected, and nothing needed to
    launcher.click()  # remembered until the script is there
    assert len(held) == 1
    held[0].continue_()
    expect(chat.get_by_label("Votre question")).to_be_visible()
    assert sockets, "opening the chat connects"
    context.close()
