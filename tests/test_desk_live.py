"""The desk's live namespace (/desk) with real Socket.IO clients over websocket against a live
server, on SQLite and PostgreSQL: who hears which ticket changes (support: all; a commercial:
their clients'; partners: refused), presence and « en train de répondre » between two agents,
presence cleared when a desk goes away, none for a ticket one may not open."""
import re
import threading
import time

import pytest
import requests
import socketio
from werkzeug.serving import make_server

from app.models import OutboxMail, Ticket
from app.services import presence, tickets
from tests.conftest import DEMO_PASSWORD
from tests.test_chat_scale_out import redis_url  # noqa: F401  (a real Redis server, per test)
from tests.ticket_helpers import org, priority, user

AGENT = "agent1@novalead.com"  # Fatou Ndiaye
COLLEAGUE = "agent1b@novalead.com"  # Koffi Mensah
COMMERCIAL = "commercial1@novalead.com"  # Crédit Solidaire, Fonds Épargne Plus, MF Horizon
OTHER_COMMERCIAL = "commercial2@novalead.com"  # Baobab Microcrédit, Caisse Populaire de l'Avenir…
CLIENT = "client@credit-solidaire.sn"
RESELLER = "revendeur@afrilog.ci"


@pytest.fixture
def server(app, demo):
    """The application served by a real HTTP server in a thread (Socket.IO in threading mode)."""
    for name in ("_send_packet", "_send_eio_packet"):  # left by Flask-SocketIO's test client
        app.extensions["socketio"].server.__dict__.pop(name, None)
    app.config["SERVER_NAME"] = None
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    clients = []
    yield f"http://127.0.0.1:{http.server_port}", clients
    for client in clients:
        client.disconnect()
    http.shutdown()
    app.config["SERVER_NAME"] = "novadesk.test"


def sign_in(base, db, email):
    """Through the real sign-in pages (password, then the e-mailed code if asked): the cookie."""
    session = requests.Session()

    def token(path):
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(f"{base}{path}").text)
        return {"csrf_token": found.group(1)} if found else {}

    response = session.post(f"{base}/login/", data={"email": email, "password": DEMO_PASSWORD, **token("/login/")}, allow_redirects=False)
    if response.headers.get("Location", "").endswith("/login/verify"):
        db.session.expire_all()
        mail = db.session.query(OutboxMail).filter_by(recipient=email).order_by(OutboxMail.id.desc()).first()
        code = re.search(r"\b(\d{6})\b", mail.subject).group(1)
        response = session.post(f"{base}/login/verify", data={"code": code, **token("/login/verify")}, allow_redirects=False)
    assert response.status_code == 302 and "/login" not in response.headers["Location"], response.text[:300]
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


class Desk:
    """A desk's socket and what it heard."""

    def __init__(self, server, db, email=None):
        base, clients = server
        self.client = socketio.Client(reconnection=False)
        self.heard = {"ticket": [], "presence": [], "connect_error": []}
        for name in self.heard:
            self.client.on(name, lambda data, name=name: self.heard[name].append(data), namespace="/desk")
        headers = {"Cookie": sign_in(base, db, email)} if email else {}
        clients.append(self.client)
        self.client.connect(base, namespaces=["/desk"], headers=headers, transports=["websocket"], wait_timeout=10)

    def call(self, event, data):
        return self.client.call(event, data, namespace="/desk", timeout=10)

    def tickets_heard(self, change="fields"):
        return [e["ticket_id"] for e in self.heard["ticket"] if e["change"] == change]

    def presence_of(self, ticket_id):
        return [e["viewers"] for e in self.heard["presence"] if e["ticket_id"] == ticket_id]


def eventually(check, seconds=5):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def refused(server, db, email):
    desk = Desk.__new__(Desk)
    with pytest.raises(socketio.exceptions.ConnectionError):
        desk.__init__(server, db, email)
    return desk.heard["connect_error"][0]["message"]


def new_ticket(db, organisation):
    ticket = tickets.create_ticket(user(AGENT), title="Export comptable vide", body="Le fichier est vide.", organisation_id=org(organisation).id)
    db.session.commit()
    return ticket


def change(db, ticket):
    """A real change, committed: the ticket services tell the desks (ticket.changed)."""
    ticket = db.session.get(Ticket, ticket.id)
    tickets.change_priority(user(AGENT), ticket, priority("high" if ticket.priority.key != "high" else "normal").id)
    db.session.commit()
    return ticket.id


def test_ticket_events_reach_the_support_and_the_commercials_of_the_client_only(server, demo):
    agent = Desk(server, demo, AGENT)
    mine = Desk(server, demo, COMMERCIAL)
    theirs = Desk(server, demo, OTHER_COMMERCIAL)
    solidaire, baobab = new_ticket(demo, "Crédit Solidaire du Sahel"), new_ticket(demo, "Baobab Microcrédit")

    first = change(demo, solidaire)
    control = change(demo, baobab)  # heard by the other commercial: what they heard before is all they will

    assert eventually(lambda: agent.tickets_heard() == [first, control])
    assert eventually(lambda: mine.tickets_heard() == [first])
    assert eventually(lambda: theirs.tickets_heard() == [control])
    assert mine.tickets_heard() == [first]  # the agent heard the control event after, so did the server send
    assert agent.tickets_heard("created") == [solidaire.id, baobab.id]
    assert mine.tickets_heard("created") == [solidaire.id] and theirs.tickets_heard("created") == [baobab.id]
    assert {"number", "organisation_id", "change", "actor_id", "at"} <= set(agent.heard["ticket"][0])
    assert "title" not in agent.heard["ticket"][0]  # ids only: the desk reads the ticket through scopes


@pytest.mark.parametrize("email", [CLIENT, RESELLER, None])
def test_partners_and_visitors_are_refused_the_desk(server, demo, email):
    message = refused(server, demo, email)
    assert "compte du support" in message


def test_two_agents_on_one_ticket_see_each_other_then_writing_then_leaving(server, demo):
    ticket = new_ticket(demo, "Crédit Solidaire du Sahel")
    fatou, koffi = Desk(server, demo, AGENT), Desk(server, demo, COLLEAGUE)

    alone = fatou.call("viewing", {"ticket_id": ticket.id})
    assert [v["name"] for v in alone["viewers"]] == ["Fatou Ndiaye"]
    both = koffi.call("viewing", {"ticket_id": ticket.id})
    assert [v["name"] for v in both["viewers"]] == ["Fatou Ndiaye", "Koffi Mensah"]
    assert eventually(lambda: [v["name"] for v in (fatou.presence_of(ticket.id) or [[]])[-1]] == ["Fatou Ndiaye", "Koffi Mensah"])

    assert koffi.call("composing", {"ticket_id": ticket.id, "on": True}) == {"ok": True}
    assert eventually(lambda: {v["name"]: v["composing"] for v in fatou.presence_of(ticket.id)[-1]} == {"Fatou Ndiaye": False, "Koffi Mensah": True})

    koffi.client.disconnect()  # the desk closed: presence cleared
    assert eventually(lambda: [v["name"] for v in fatou.presence_of(ticket.id)[-1]] == ["Fatou Ndiaye"])
    assert [v["name"] for v in presence.viewers(ticket.id)] == ["Fatou Ndiaye"]

    assert fatou.call("viewing", {"ticket_id": None}) == {"ok": True, "ticket_id": None, "viewers": []}
    assert presence.viewers(ticket.id) == []


def test_no_presence_for_a_ticket_one_may_not_open(server, demo):
    mine, other = new_ticket(demo, "Crédit Solidaire du Sahel"), new_ticket(demo, "Baobab Microcrédit")
    commercial, agent = Desk(server, demo, COMMERCIAL), Desk(server, demo, AGENT)

    assert commercial.call("viewing", {"ticket_id": other.id}) == {"error": "Ce ticket n'existe pas ou ne vous est pas accessible.", "fields": {}}
    assert commercial.call("viewing", {"ticket_id": 99999999})["error"]  # missing: the same answer
    assert commercial.call("composing", {"ticket_id": other.id, "on": True})["error"]
    assert presence.viewers(other.id) == []
    assert commercial.call("viewing", {"ticket_id": mine.id})["ok"]

    agent.call("viewing", {"ticket_id": other.id})
    agent.call("viewing", {"ticket_id": mine.id})  # control: the commercial hears this one
    assert eventually(lambda: any(v["name"] == "Fatou Ndiaye" for vs in commercial.presence_of(mine.id) for v in vs))
    assert commercial.presence_of(other.id) == []


def test_a_desk_hears_what_its_scope_gives_now_not_what_it_gave_at_connection(server, demo):
    """A commercial who no longer looks after a client stops hearing of its tickets at the next
    heartbeat (`viewing`, every 30 s), without a reload; an agent switched off is disconnected
    and hears nothing more."""
    solidaire, epargne = new_ticket(demo, "Crédit Solidaire du Sahel"), new_ticket(demo, "Fonds Épargne Plus")
    commercial, agent = Desk(server, demo, COMMERCIAL), Desk(server, demo, AGENT)
    assert commercial.call("viewing", {"ticket_id": solidaire.id})["ok"]
    first = change(demo, solidaire)
    assert eventually(lambda: commercial.tickets_heard() == [first])

    org("Crédit Solidaire du Sahel").account_manager_id = user(OTHER_COMMERCIAL).id
    demo.session.commit()
    answer = commercial.call("viewing", {"ticket_id": solidaire.id})  # the page's heartbeat
    assert answer["error"] == "Ce ticket n'existe pas ou ne vous est pas accessible."
    assert presence.viewers(solidaire.id) == []
    change(demo, solidaire)
    control = change(demo, epargne)  # still theirs: heard, after the one they must not hear
    assert eventually(lambda: control in commercial.tickets_heard())
    assert commercial.tickets_heard() == [first, control]

    user(AGENT).active = False
    demo.session.commit()
    agent.client.emit("viewing", {"ticket_id": None}, namespace="/desk")
    assert eventually(lambda: not agent.client.connected)
    heard = len(agent.heard["ticket"])
    tickets.change_priority(user(COLLEAGUE), demo.session.get(Ticket, epargne.id), priority("urgent").id)
    demo.session.commit()
    assert eventually(lambda: commercial.tickets_heard().count(epargne.id) == 2)
    assert len(agent.heard["ticket"]) == heard


@pytest.mark.parametrize("data", [None, "x", {"ticket_id": "abc"}, {"ticket_id": -1}, {"ticket_id": 10**30}, {"ticket_id": [1]}, {"ticket_id": True}, {"ticket_id": 1.5}])
def test_bad_input_on_the_desk_is_refused_with_a_message(server, demo, data):
    agent = Desk(server, demo, AGENT)
    answer = agent.call("viewing", data) if data is not None else agent.call("composing", {"on": True})
    if data in (None,) or isinstance(data, str):
        assert answer.get("error") or answer.get("viewers") == []
    else:
        assert answer["error"] == "Ce ticket n'existe pas ou ne vous est pas accessible."
    assert agent.client.connected


def test_an_entry_whose_desk_stopped_answering_expires(app, demo):
    """A desk on a process that died never says goodbye: its entry stops counting by itself."""
    ticket = new_ticket(demo, "Crédit Solidaire du Sahel")
    with app.test_request_context():
        presence.view("dead-socket", user(AGENT), ticket.id)
        presence.view("live-socket", user(COLLEAGUE), ticket.id)
        demo.session.rollback()
        store = presence._store()
        entry = store.get("dead-socket")
        store.put("dead-socket", dict(entry, at=entry["at"] - store.seconds - 1))  # last heard of long ago
        assert [v["name"] for v in presence.viewers(ticket.id)] == ["Koffi Mensah"]
        presence.drop("live-socket")
        demo.session.rollback()
        assert presence.viewers(ticket.id) == []


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # the store is Redis's; one database is enough
def test_scaled_out_the_desks_of_two_processes_share_presence_through_redis(app, demo, redis_url):  # noqa: F811
    """Two processes, one Redis: a desk on each sees the other; an entry whose process died
    (never dropped) leaves by itself once its time is up."""
    ticket = new_ticket(demo, "Crédit Solidaire du Sahel")
    one, two = presence.RedisStore(redis_url, seconds=2), presence.RedisStore(redis_url, seconds=2)
    kept = app.extensions.get("novadesk_desk_presence")
    try:
        with app.test_request_context():
            app.extensions["novadesk_desk_presence"] = one
            presence.view("sid-on-process-1", user(AGENT), ticket.id)
            app.extensions["novadesk_desk_presence"] = two
            presence.view("sid-on-process-2", user(COLLEAGUE), ticket.id)
            presence.compose("sid-on-process-2", ticket.id, True)
            demo.session.rollback()
            app.extensions["novadesk_desk_presence"] = one
            assert presence.viewers(ticket.id) == [
                {"id": user(AGENT).id, "name": "Fatou Ndiaye", "composing": False},
                {"id": user(COLLEAGUE).id, "name": "Koffi Mensah", "composing": True},
            ]
            presence.drop("sid-on-process-1")  # process 1's desk closed
            demo.session.rollback()
            assert [v["name"] for v in presence.viewers(ticket.id)] == ["Koffi Mensah"]
            # process 2 dies: its desk never says goodbye, nor keeps its entry alive
            assert eventually(lambda: presence.viewers(ticket.id) == [], seconds=10)
            assert not one.redis.sismember(one._ticket(ticket.id), "sid-on-process-2")
    finally:
        if kept is None:
            app.extensions.pop("novadesk_desk_presence", None)
        else:
            app.extensions["novadesk_desk_presence"] = kept
