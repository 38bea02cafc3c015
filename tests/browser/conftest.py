"""A live NovaDesk (SQLite) in a thread, and Debian's Chromium driven by Playwright."""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import _APPS, build_app, require_or_skip

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_app():
    if "sqlite" not in _APPS:
        _APPS["sqlite"] = build_app("sqlite")
    return _APPS["sqlite"]


@pytest.fixture
def live_server(live_app):
    from app.cli import sync_permissions_and_roles
    from app.extensions import db
    from seeds.demo import load_demo
    from tests.conftest import _empty_data_tables

    with live_app.app_context():
        _empty_data_tables(db)
        sync_permissions_and_roles(reset_roles=True)  # roles and the desk's reference data
        load_demo(with_tickets=False)
        db.session.remove()
    live_app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    live_app.config["SERVER_NAME"] = "novadesk.test"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        require_or_skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # bypass_csp lets the test inject axe-core; NovaDesk's own CSP is checked elsewhere.
    context = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def check_accessibility(page, label):
    """axe-core finds nothing serious or critical on the page."""
    if not AXE.exists():
        require_or_skip("axe-core is not installed (cd tests/browser && npm ci)")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
        }"""
    )
    assert violations == [], f"{label}: " + "\n".join(violations)


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
