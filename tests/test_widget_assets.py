"""What a partner on a slow link downloads (C1, K3): the frame's scripts and styles under names
that carry a hash of their content, cached for a year; the loader at a stable address with a
short cache; everything compressed."""
import gzip
import html
import re

from app.views.chat import DEMO_CHANNEL_KEY

GZIP = {"Accept-Encoding": "gzip, deflate"}


def frame_assets(client):
    page = client.get(f"/widget/frame/{DEMO_CHANNEL_KEY}", headers=GZIP)
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] == "gzip"  # the frame itself travels compressed
    text = gzip.decompress(page.data).decode()
    return text, re.findall(r'(?:src|href)="(/widget/assets/[^"]+)"', text)


def test_the_frames_scripts_and_styles_are_named_by_their_content_and_cached_for_good(app, demo):
    client = app.test_client()
    page, assets = frame_assets(client)
    names = sorted(a.rsplit("/", 1)[1] for a in assets)
    assert [re.sub(r"\.[0-9a-f]{12}\.", ".#.", n) for n in names] == ["frame.#.css", "frame.#.js"], names
    assert "/static/widget/" not in page  # nothing of the frame under an unversioned name
    for url in assets:
        plain = client.get(url)
        assert plain.status_code == 200
        assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        packed = client.get(url, headers=GZIP)
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.data) == plain.data
        assert len(packed.data) < len(plain.data) / 2
        # The name is the content: another hash is not this file.
        stem, digest, ext = url.rsplit("/", 1)[1].split(".")
        stale = client.get(url.replace(digest, "0" * 12))
        assert stale.status_code == 404
        assert "immutable" not in stale.headers.get("Cache-Control", "")
        # Revalidation costs nothing.
        again = client.get(url, headers=dict(GZIP, **{"If-None-Match": packed.headers["ETag"]}))
        assert again.status_code == 304
    assert client.get("/widget/assets/loader.abcdefabcdef.js").status_code == 404
    assert client.get("/widget/assets/..%2Fconfig.py").status_code == 404


def test_a_new_build_gets_new_names(app, demo, tmp_path, monkeypatch):
    import os
    import shutil

    client = app.test_client()
    _, before = frame_assets(client)
    static = tmp_path / "static"
    shutil.copytree(os.path.join(app.static_folder, "widget"), static / "widget")
    monkeypatch.setattr(app, "static_folder", str(static))
    with open(static / "widget" / "frame.js", "a") as built:
        built.write("\n;")
    _, after = frame_assets(client)
    changed = [a for a in after if a not in before]
    assert [c.rsplit("/", 1)[1].split(".")[0::2] for c in changed] == [["frame", "js"]]
    assert client.get(changed[0]).data.endswith(b"\n;")


def test_the_loader_keeps_its_address_with_a_short_cache(app, demo):
    client = app.test_client()
    loader = client.get("/widget.js", headers=GZIP, buffered=True)
    assert loader.status_code == 200
    assert loader.headers["Cache-Control"] == "public, max-age=300"
    assert loader.headers["Content-Encoding"] == "gzip"
    assert b"/widget/frame/" in gzip.decompress(loader.data)


def test_the_launchers_label_never_leaves_its_question_mark_alone(app, demo):
    client = app.test_client()
    page, _ = frame_assets(client)
    assert launcher_label(page) == "Besoin d'aide\u00a0?"  # shown before any script runs
    english = gzip.decompress(client.get(f"/widget/frame/{DEMO_CHANNEL_KEY}?lang=en", headers=GZIP).data).decode()
    assert launcher_label(english) == "Need help?"


def launcher_label(page):
    return html.unescape(re.search(r'<span class="nd-launcher-text">([^<]*)</span>', page).group(1))


def test_pages_and_static_files_travel_compressed(app, demo):
    client = app.test_client()
    home = client.get("/help/", headers=GZIP)
    assert home.status_code == 200
    assert home.headers["Content-Encoding"] == "gzip"
    css = client.get("/static/css/help.css", headers=GZIP, buffered=True)
    assert css.headers["Content-Encoding"] == "gzip"
    assert b"hc-" in gzip.decompress(css.data)
    # A client that does not ask for compression gets plain bytes.
    assert "Content-Encoding" not in client.get("/help/").headers


def test_a_signed_in_page_with_its_csrf_token_is_not_compressed(app, demo):
    """BREACH: a page that carries a signed-in user's CSRF token beside reflected input must not
    let its compressed size reveal the token; public pages and static files stay compressed."""
    from tests.conftest import login

    client = app.test_client()
    login(client, demo, "agent1@novalead.com")
    form = client.get("/tickets/new", headers=GZIP)
    assert form.status_code == 200
    assert "Content-Encoding" not in form.headers
    assert 'name="csrf_token"' in form.get_data(as_text=True)
    assert "Accept-Encoding" in form.headers["Vary"]
    script = client.get("/static/js/tickets.js", headers=GZIP, buffered=True)
    assert script.headers["Content-Encoding"] == "gzip"
    assert client.get("/help/", headers=GZIP).headers["Content-Encoding"] == "gzip"
