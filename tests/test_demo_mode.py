"""The demo partner page (C5, U7): only in demo mode, never signing a real account, on whatever
address NovaDesk is served; and the widget's origin comes from the browser's headers, never
from what a client says about itself."""
import contextvars
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import socketio
from werkzeug.serving import make_server

from app.models import ChatChannel, ChatConversation, NovaUser, OutboxMail, Ticket
from app.services import chat
from app.views.chat import DEMO_CHANNEL_KEY

SERVED = "http://127.0.0.1:5000"  # the tests' HOST and PORT
ROOT = Path(__file__).resolve().parents[1]


def page_identity(client):
    page = client.get("/demo/partner")
    assert page.status_code == 200
    return json.loads(re.search(r"NovaDesk\.identify\((\{.*?\})\);", page.get_data(as_text=True)).group(1))


def widget(app, identity, origin=SERVED):
    headers = {"Origin": origin} if origin else {}
    return contextvars.Context().run(
        app.extensions["socketio"].test_client, app, namespace="/widget", headers=headers,
        auth={"channel": DEMO_CHANNEL_KEY, "host": SERVED, "identity": identity, "lang": "fr"},
    )


def call(client, event, data):
    return contextvars.Context().run(client.emit, event, data, namespace="/widget", callback=True)


@pytest.fixture
def production(app):
    app.config["DEMO_MODE"] = False
    yield
    app.config["DEMO_MODE"] = True


def test_out_of_demo_mode_there_is_no_demo_page_nor_demo_channel(app, client, demo, production):
    assert client.get("/demo/partner").status_code == 404
    channel = demo.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
    expires = int(time.time()) + 600
    person = chat.DEMO_VISITOR
    identity = dict(person, expires=expires, signature=chat.sign_identity(channel.secret, person["id"], person["email"], expires, person["name"]))
    assert not widget(app, identity).is_connected("/widget")
    assert client.get(f"/widget/frame/{DEMO_CHANNEL_KEY}").status_code == 404


def test_demo_mode_is_off_unless_asked_for():
    environment = {key: value for key, value in os.environ.items() if key != "DEMO_MODE"}
    said = subprocess.run([sys.executable, "-c", "from config import Config; print(Config.DEMO_MODE)"], env=environment, capture_output=True, text=True, check=True, cwd=ROOT)
    assert said.stdout.strip() == "False"
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export DEMO_MODE ?= 1" in makefile  # `make run` shows the demo


def test_the_demo_page_signs_a_demonstration_person_not_a_real_client(app, client, demo):
    identity = page_identity(client)
    assert identity["email"] == chat.DEMO_VISITOR["email"]
    assert demo.session.query(NovaUser).filter(NovaUser.email == identity["email"]).count() == 0
    real_clients = {u.email for u in demo.session.query(NovaUser)}
    assert identity["email"] not in real_clients
    # With that identity, a script is « identité vérifiée » as the demonstration person only…
    visitor = widget(app, identity)
    hello = visitor.get_received("/widget")[0]["args"][0]
    assert hello["identified"] and hello["name"] == "Mariama Ba — démonstration"
    # …and a message left while nobody answers files no ticket in a client's name, nor mails one.
    answer = call(visitor, "leave_message", {"body": "Bonjour, je teste la démonstration."})
    assert answer.get("ok"), answer
    demo.session.expire_all()
    ticket = demo.session.query(Ticket).filter_by(number=answer["ticket"]).one()
    assert ticket.requester_id is None or ticket.requester.email not in real_clients
    conversation = demo.session.query(ChatConversation).filter_by(ticket_id=ticket.id).one()
    assert conversation.visitor_id is None
    recipients = {m.recipient for m in demo.session.query(OutboxMail)}
    assert not recipients & (real_clients - {u.email for u in demo.session.query(NovaUser) if u.organisation and u.organisation.kind == "vendor"})


def test_the_demo_channel_follows_the_served_address(app, client, demo):
    def ancestors():
        policy = client.get(f"/widget/frame/{DEMO_CHANNEL_KEY}").headers["Content-Security-Policy"]
        return re.search(r"frame-ancestors ([^;]+)", policy).group(1).split()

    assert SERVED in ancestors()
    app.config["PORT"] = 8123
    try:
        assert "http://127.0.0.1:8123" in ancestors() and SERVED not in ancestors()
        app.config["PUBLIC_URL"] = "https://support.novalead.example/"
        assert "https://support.novalead.example" in ancestors()
        identity = page_identity(client)
        assert widget(app, identity, origin="https://support.novalead.example").is_connected("/widget")
        assert not widget(app, identity, origin=SERVED).is_connected("/widget")  # port 5000 is not where it is served
    finally:
        app.config["PORT"] = 5000
        app.config["PUBLIC_URL"] = ""


def test_a_frame_requested_from_a_foreign_page_is_refused(client, demo):
    assert client.get(f"/widget/frame/{DEMO_CHANNEL_KEY}", headers={"Referer": "https://evil.example/page"}).status_code == 403
    assert client.get(f"/widget/frame/{DEMO_CHANNEL_KEY}", headers={"Referer": f"{SERVED}/demo/partner"}).status_code == 200


# --- a real Socket.IO client against a served NovaDesk ------------------------------------


@pytest.fixture
def served(app, demo):
    for name in ("_send_packet", "_send_eio_packet"):  # undo the test client's rerouting
        app.extensions["socketio"].server.__dict__.pop(name, None)
    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PORT"] = server.server_port
    yield base
    server.shutdown()
    app.config["SERVER_NAME"] = "novadesk.test"
    app.config["PORT"] = 5000


def connects(base, identity, transport, headers):
    """A python-socketio client (long-polling: it sends only the headers given here)."""
    client = socketio.Client(reconnection=False)
    try:
        client.connect(base, namespaces=["/widget"], transports=[transport], headers=headers, wait_timeout=5,
                       auth={"channel": DEMO_CHANNEL_KEY, "host": base, "identity": identity, "lang": "fr"})
    except socketio.exceptions.ConnectionError:
        return False
    try:
        return client.connected and "/widget" in client.namespaces
    finally:
        client.disconnect()


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # one database is enough for the served socket
def test_a_script_claiming_the_host_is_refused_without_the_browsers_origin(app, served):
    with app.test_request_context(base_url=served):
        channel = chat.demo_channel()
        expires = int(time.time()) + 600
        person = chat.DEMO_VISITOR
        identity = dict(person, expires=expires, signature=chat.sign_identity(channel.secret, person["id"], person["email"], expires, person["name"]))
    # No Origin, no Referer (a script's long-polling), a forged host: refused.
    assert not connects(served, identity, "polling", {})
    # A foreign page's Origin, whatever host it claims: refused.
    assert not connects(served, identity, "polling", {"Origin": "https://evil.example"})
    # The frame: its own origin, or its Referer (a same-origin long-polling request has no Origin).
    assert connects(served, identity, "polling", {"Origin": served})
    assert connects(served, identity, "polling", {"Referer": f"{served}/widget/frame/{DEMO_CHANNEL_KEY}"})
