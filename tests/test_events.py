"""The event pipeline (app/services/events.py): every kind has a schema, what a service
publishes leaves only after the commit and only once, and one failing sink never silences the
others. Then the chat's events end to end: a message sent through each door (the widget's
socket, the widget's HTTP upload, a conversion to a ticket run like the worker runs it, with no
request) reaches an agent's console connected with a real Socket.IO client to a served
NovaDesk."""
import threading
import time
import typing

import pytest
import requests
import socketio
from flask import has_request_context

from app.models import ChatChannel, ChatConversation, NovaUser, Ticket
from app.services import chat, events
from app.views.chat import DEMO_CHANNEL_KEY
from tests.conftest import DEMO_PASSWORD, code_from_mail
from tests.test_chat_scale_out import collector, eventually
from tests.test_demo_mode import served  # noqa: F401  (NovaDesk served in a thread, the same fixture)
from tests.ticket_helpers import png_bytes


@pytest.fixture
def heard():
    """Every event the dispatcher hands out during the test, in order."""
    seen = []
    undo = events.watch(seen.append)
    yield seen
    undo()


# --- the pipeline -------------------------------------------------------------------------


def test_every_kind_has_a_typed_schema_and_browser_kinds_name_their_socket_event():
    assert events.KINDS, "no event kinds"
    for kind, spec in events.KINDS.items():
        assert typing.is_typeddict(spec.schema), f"{kind}: its schema is not a TypedDict"
        assert spec.schema.__doc__, f"{kind}: its schema says nothing of what it means"
        assert spec.client_event is None or (isinstance(spec.client_event, str) and spec.client_event)
    chat_kinds = {kind: spec.client_event for kind, spec in events.KINDS.items() if kind.startswith("chat.")}
    assert chat_kinds == {"chat.message": "message", "chat.conversation": "conversation", "chat.state": "state", "chat.read": "read", "chat.typing": "typing"}


def test_a_kind_told_to_browsers_is_never_published_without_rooms(db, heard):
    for kind, spec in events.KINDS.items():
        if spec.client_event is None:
            continue
        with pytest.raises(ValueError):
            events.publish(kind, {}, to=())
    db.session.commit()
    assert heard == []


def test_an_unknown_kind_is_refused_at_once(db, heard):
    with pytest.raises(KeyError, match="chat.nonsense"):
        events.publish("chat.nonsense", {})
    db.session.commit()
    assert heard == []


def test_nothing_leaves_before_the_commit_and_a_rollback_forgets_it(db, heard):
    events.publish("files.removed", {"keys": ["a"]})
    db.session.flush()
    assert heard == []  # not yet: the change could still be undone
    db.session.rollback()
    db.session.commit()
    assert heard == []  # undone, and never told

    events.publish("files.removed", {"keys": ["b"]})
    db.session.commit()
    assert [(e.kind, e.payload) for e in heard] == [("files.removed", {"keys": ["b"]})]
    db.session.commit()
    assert len(heard) == 1  # told once, not again at the next commit


def test_a_savepoint_rolled_back_forgets_only_what_was_published_inside_it(db, heard):
    """A worker job that skips one duplicate (a savepoint rolled back) keeps its other events."""
    events.publish("files.removed", {"keys": ["before"]})
    savepoint = db.session.begin_nested()
    events.publish("files.removed", {"keys": ["undone"]})
    savepoint.rollback()
    with db.session.begin_nested():
        events.publish("files.removed", {"keys": ["released"]})
    assert heard == []  # a savepoint released is not the commit
    db.session.commit()
    assert [e.payload["keys"] for e in heard] == [["before"], ["released"]]


def test_a_commit_of_nothing_still_sends_what_was_published(db, heard):
    """Typing stores nothing: its event leaves with an empty commit."""
    chat.visitor_typing(123, True)
    db.session.commit()
    assert [(e.kind, e.payload, e.rooms) for e in heard] == [
        ("chat.typing", {"conversation_id": 123, "side": "visitor", "on": True}, (("/console", "conv:123"),))
    ]


def test_the_worker_is_woken_once_per_transaction(db, heard):
    for _ in range(3):
        events.publish("worker.wake")
    db.session.commit()
    events.publish("worker.wake")
    events.publish("worker.wake")
    db.session.commit()
    assert [e.kind for e in heard] == ["worker.wake", "worker.wake"]


def test_a_failing_sink_does_not_stop_the_others(db, heard, caplog):
    reached = []

    def broken(event):
        raise RuntimeError("this sink is down")

    installed = events._dispatcher.sinks
    installed[:0] = [broken]  # first in line
    installed.append(reached.append)
    try:
        events.publish("files.removed", {"keys": []})
        events.publish("mail.kept", {"recipient": "a@b.example", "subject": "Objet", "text": "Texte"})
        db.session.commit()  # the commit itself does not fail either
    finally:
        installed.remove(broken)
        installed.remove(reached.append)
    assert [e.kind for e in reached] == ["files.removed", "mail.kept"]
    assert "a sink failed" in caplog.text


# --- the chat, from every door, to a connected console -------------------------------------


def _sign_in(base, db, email):
    """Sign in on the served NovaDesk as a browser would (the e-mailed code read from the
    outbox): the session cookie for the console's socket."""
    browser = requests.Session()
    answer = browser.post(f"{base}/login/", data={"email": email, "password": DEMO_PASSWORD}, allow_redirects=False, timeout=10)
    if answer.headers.get("Location", "").endswith("/login/verify"):
        db.session.expire_all()
        answer = browser.post(f"{base}/login/verify", data={"code": code_from_mail(db, email)}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "/login" not in answer.headers["Location"], answer.text[:300]
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def _signed_identity(channel):
    expires = int(time.time()) + 600
    email, name = "client@credit-solidaire.sn", "Ibrahima Fall"
    return {"id": "ERP-U-1", "name": name, "email": email, "expires": expires, "signature": chat.sign_identity(channel.secret, "ERP-U-1", email, expires, name)}


def _convert_as_the_worker_does(app, conversation_id, agent_email, done):
    """A conversion run in a thread of its own, with an application context and no request:
    as a worker job or a command would run it."""
    from app.extensions import db

    with app.app_context():
        try:
            assert not has_request_context()
            agent = db.session.query(NovaUser).filter_by(email=agent_email).one()
            ticket, _message = chat.to_ticket(agent, db.session.get(ChatConversation, conversation_id))
            db.session.commit()
            done.append(ticket.number)
        finally:
            db.session.remove()


def test_a_chat_message_from_every_door_reaches_a_connected_console(app, served, demo):  # noqa: F811 (the fixture)
    channel = demo.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
    identity = _signed_identity(channel)
    demo.session.commit()

    agent = socketio.Client(reconnection=False)
    console = collector(agent, "/console", ["conversation", "message"])
    agent.connect(served, namespaces=["/console"], transports=["polling"], wait_timeout=10,
                  headers={"Cookie": _sign_in(served, demo, "agent1@novalead.com")})
    visitor = socketio.Client(reconnection=False)
    widget = collector(visitor, "/widget", ["hello", "message", "state"])
    visitor.connect(served, namespaces=["/widget"], transports=["polling"], wait_timeout=10, headers={"Origin": served},
                    auth={"channel": DEMO_CHANNEL_KEY, "host": served, "identity": identity, "lang": "fr"})
    try:
        assert eventually(lambda: widget["hello"]) and widget["hello"][0]["available"]
        started = visitor.call("start", {"question": "Mon export comptable échoue", "client_id": "q1"}, namespace="/widget", timeout=10)
        cid, token = started["conversation"]["id"], started["token"]
        assert eventually(lambda: any(c["id"] == cid and c["status"] == "waiting" for c in console["conversation"]))
        assert agent.call("accept", {"conversation_id": cid}, namespace="/console", timeout=10)["ok"]

        # 1. the widget's socket
        sent = visitor.call("message", {"body": "Par le socket", "client_id": "s1"}, namespace="/widget", timeout=10)
        assert sent["ok"], sent
        assert eventually(lambda: any(m["body"] == "Par le socket" and m["conversation_id"] == cid for m in console["message"]))
        assert not any(m.get("client_id") == "s1" for m in widget["message"])  # the sender has it in its answer

        # 2. the widget's HTTP upload, sent as the visitor's message with it
        headers = {"X-Channel": DEMO_CHANNEL_KEY, "X-Conversation-Token": token, "Origin": served}
        uploaded = requests.post(f"{served}/widget/upload", headers=headers, data={"client_id": "u1"},
                                 files={"file": ("ecran.png", png_bytes(), "image/png")}, timeout=10)
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["message"]["client_id"] == "u1"
        assert eventually(lambda: any((m["file"] or {}).get("name") == "ecran.png" for m in console["message"]))
        link = next(m["file"]["url"] for m in console["message"] if m["file"])
        assert link.startswith("/") and requests.get(served + link, timeout=10).content.startswith(b"\x89PNG")
        assert eventually(lambda: any(m.get("client_id") == "u1" for m in widget["message"]))  # the visitor's frame too
        # the frame's own message over the socket after its upload is that same message, told once
        again = visitor.call("message", {"body": "", "file_id": uploaded.json()["file_id"], "client_id": "u1"}, namespace="/widget", timeout=10)
        assert again["message"]["seq"] == uploaded.json()["message"]["seq"]

        # 3. a conversion to a ticket, with no request: as the worker would run it
        done = []
        worker = threading.Thread(target=_convert_as_the_worker_does, args=(app, cid, "agent1@novalead.com", done))
        worker.start()
        worker.join(30)
        assert done, "the conversion failed"
        number = done[0]
        assert eventually(lambda: any(number in m["body"] and m["author_kind"] == "system" for m in console["message"]))
        assert eventually(lambda: any(c["id"] == cid and c["ticket"] == number for c in console["conversation"]))
        linked = next(c for c in console["conversation"] if c["ticket"] == number)
        ticket = demo.session.query(Ticket).filter_by(number=number).one()
        assert linked["ticket_url"].startswith("/") and linked["ticket_url"].endswith(str(ticket.id))
        assert eventually(lambda: any(s["ticket"] == number for s in widget["state"]))

        # each message reached the console once, in order
        seqs = [m["seq"] for m in console["message"] if m["conversation_id"] == cid]
        assert seqs == sorted(set(seqs))
    finally:
        visitor.disconnect()
        agent.disconnect()
