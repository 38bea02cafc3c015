"""Live chat (C1–C6) through its Socket.IO namespaces, on SQLite and PostgreSQL: who may
connect, what is stored before it is broadcast, what a reconnect gets back, what becomes a
ticket, and what is refused with a message (forged identities, foreign origins, floods)."""
import contextvars
import io
import time
from datetime import datetime, timezone

import pytest

from app.models import Channel, ChatChannel, ChatConversation, ChatMessage, ConversationStatus, OutboxMail, Ticket
from app.services import chat, clock
from app.views.chat import DEMO_CHANNEL_KEY
from tests.conftest import login
from tests.ticket_helpers import png_bytes

HOST = "http://127.0.0.1:5000"  # a declared origin of the demo channel
CLIENT_EMAIL = "client@credit-solidaire.sn"


def demo_channel(db):
    return db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()


def signed(channel, external_id="ERP-U-1", email=CLIENT_EMAIL, name="Ibrahima Fall", expires_in=600):
    expires = int(time.time()) + expires_in
    return {"id": external_id, "name": name, "email": email, "expires": expires, "signature": chat.sign_identity(channel.secret, external_id, email, expires, name)}


def isolated(function, *args, **kwargs):
    """Each socket event runs in a fresh context, as on the server (its own app context, `g`
    and database session), never in the test's."""
    return contextvars.Context().run(function, *args, **kwargs)


def widget(app, channel, identity=None, token=None, host=HOST, after=0, headers=None, key=None):
    return isolated(
        app.extensions["socketio"].test_client,
        app, namespace="/widget", headers={"Origin": HOST} if headers is None else headers,
        auth={"channel": key or channel.public_key, "host": host, "identity": identity, "token": token, "after": after, "lang": "fr"},
    )


def console(app, db, email):
    http = app.test_client()
    login(http, db, email)
    return isolated(app.extensions["socketio"].test_client, app, namespace="/console", flask_test_client=http), http


def events(client, namespace, name):
    """Every `name` event this client received so far (the test client hands each out once)."""
    seen = client.__dict__.setdefault("_seen", {}).setdefault(namespace, [])
    seen.extend(client.get_received(namespace))
    return [e["args"][0] if isinstance(e["args"], list) else e["args"] for e in seen if e["name"] == name]


def call(client, namespace, event, data=None):
    return isolated(client.emit, event, data or {}, namespace=namespace, callback=True)


@pytest.fixture
def desk(app, demo):
    """The demo channel, an agent's console open (so someone is available)."""
    channel = demo_channel(demo)
    agent, agent_http = console(app, demo, "agent1@novalead.com")
    assert agent.is_connected("/console")
    return channel, agent, agent_http


def start(app, channel, question="Mon export comptable échoue", identity=None, **extra):
    client = widget(app, channel, identity=identity if identity is not None else signed(channel))
    assert client.is_connected("/widget")
    answer = call(client, "/widget", "start", dict({"question": question}, **extra))
    assert answer.get("ok"), answer
    return client, answer


# --- who may connect (C5) --------------------------------------------------------------------


def test_a_signed_identity_is_recognised_as_the_partners_user(app, desk):
    channel, _agent, _ = desk
    client = widget(app, channel, identity=signed(channel))
    hello = events(client, "/widget", "hello")[0]
    assert hello["identified"] and hello["name"] == "Ibrahima Fall" and hello["available"]
    answer = call(client, "/widget", "start", {"question": "Bonjour"})
    conversation = app.extensions["sqlalchemy"].session.get(ChatConversation, answer["conversation"]["id"])
    assert conversation is not None
    assert conversation.visitor.email == CLIENT_EMAIL  # their NovaDesk account, vouched for by the partner
    assert conversation.organisation.name == "Crédit Solidaire du Sahel"


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda i: dict(i, signature="0" * 64), "signature"),
        (lambda i: dict(i, email="someone.else@credit-solidaire.sn"), "signature"),  # the address is signed too
        (lambda i: dict(i, id="ERP-U-2"), "signature"),
        (lambda i: dict(i, name="Directeur Général"), "signature"),  # the name agents read is signed too
        (lambda i: dict(i, expires=float("inf")), "signature"),
        (lambda i: dict(i, signature="é" * 64), "signature"),
    ],
)
def test_forged_identities_are_refused(app, desk, tamper, message):
    channel, _agent, _ = desk
    client = widget(app, channel, identity=tamper(signed(channel)))
    assert not client.is_connected("/widget")


def test_an_expired_identity_is_refused(app, desk):
    channel, _agent, _ = desk
    assert not widget(app, channel, identity=signed(channel, expires_in=-5)).is_connected("/widget")


def test_no_identity_is_refused_unless_the_channel_accepts_anonymous_visitors(app, desk, db):
    channel, _agent, _ = desk
    anonymous = widget(app, channel, identity=None)
    assert anonymous.is_connected("/widget")  # the demo channel accepts them, with a pre-chat form
    answer = call(anonymous, "/widget", "start", {"question": "Bonjour", "name": "", "email": "x@y.example"})
    assert "nom" in answer["error"]
    answer = call(anonymous, "/widget", "start", {"question": "Bonjour", "name": "Léa", "email": "pas-une-adresse"})
    assert "e-mail" in answer["error"]
    channel.allow_anonymous = False
    db.session.commit()
    assert not widget(app, channel, identity=None).is_connected("/widget")


def test_foreign_origins_and_unknown_channels_are_refused(app, desk):
    channel, _agent, _ = desk
    assert not widget(app, channel, identity=signed(channel), headers={"Origin": "https://evil.example"}).is_connected("/widget")
    # What the client says about its page (`host`) counts for nothing: the browser's headers do.
    assert not widget(app, channel, identity=signed(channel), host=HOST, headers={}).is_connected("/widget")
    assert not widget(app, channel, identity=signed(channel), host=HOST, headers={"Origin": "https://evil.example"}).is_connected("/widget")
    assert widget(app, channel, identity=signed(channel), host="https://evil.example", headers={"Referer": f"{HOST}/page"}).is_connected("/widget")
    assert not widget(app, channel, identity=signed(channel), key="ndc_unknown").is_connected("/widget")
    assert widget(app, channel, identity=signed(channel), headers={"Origin": HOST}).is_connected("/widget")


def test_an_inactive_channel_is_refused(app, desk, db):
    channel, _agent, _ = desk
    channel.active = False
    db.session.commit()
    assert not widget(app, channel, identity=signed(channel)).is_connected("/widget")


# --- messages, stored then broadcast, numbered (C2, C6) --------------------------------------------


def test_a_conversation_from_question_to_answer(app, desk, db):
    channel, agent, _ = desk
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    waiting = [c for c in events(agent, "/console", "conversation") if c["id"] == cid]
    assert waiting and waiting[0]["status"] == "waiting" and waiting[0]["organisation"] == "Crédit Solidaire du Sahel"

    accepted = call(agent, "/console", "accept", {"conversation_id": cid})
    assert accepted["conversation"]["status"] == "active"
    assert [s["status"] for s in events(client, "/widget", "state")] == ["waiting", "active"]
    joined = events(client, "/widget", "message")
    assert joined[-1]["author_kind"] == "system" and "Fatou Ndiaye" in joined[-1]["body"]

    sent = call(client, "/widget", "message", {"body": "Le fichier est vide", "client_id": "w-1"})
    assert sent["message"]["seq"] == 3
    heard = events(agent, "/console", "message")
    assert heard[-1]["body"] == "Le fichier est vide" and heard[-1]["seq"] == 3

    reply = call(agent, "/console", "message", {"conversation_id": cid, "body": "Je regarde.", "client_id": "a-1"})
    assert reply["message"]["seq"] == 4
    assert events(client, "/widget", "message")[-1]["body"] == "Je regarde."
    db.session.expire_all()
    stored = db.session.query(ChatMessage).filter_by(conversation_id=cid).order_by(ChatMessage.seq).all()
    assert [m.seq for m in stored] == [1, 2, 3, 4]
    assert [m.author_kind for m in stored] == ["visitor", "system", "visitor", "agent"]


def test_a_message_resent_after_a_drop_is_stored_once(app, desk, db):
    channel, agent, _ = desk
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    first = call(client, "/widget", "message", {"body": "Une fois", "client_id": "same"})
    again = call(client, "/widget", "message", {"body": "Une fois", "client_id": "same"})
    assert first["message"]["seq"] == again["message"]["seq"]
    db.session.expire_all()
    assert db.session.query(ChatMessage).filter_by(conversation_id=cid, body="Une fois").count() == 1


def test_the_opening_question_keeps_the_widgets_own_id(app, desk, db):
    """The widget names each message it sends; the first question too, so a resend of it after
    a drop is recognised (C6)."""
    channel, _agent, _ = desk
    _client, answer = start(app, channel, client_id="w-question")
    assert answer["message"]["client_id"] == "w-question"
    db.session.expire_all()
    first = db.session.query(ChatMessage).filter_by(conversation_id=answer["conversation"]["id"], seq=1).one()
    assert first.client_id == "w-question"


def test_a_reconnecting_widget_receives_what_it_missed(app, desk):
    channel, agent, _ = desk
    identity = signed(channel)
    client, answer = start(app, channel, identity=identity)
    cid, token = answer["conversation"]["id"], answer["token"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    isolated(client.disconnect, namespace="/widget")  # the network drops
    call(agent, "/console", "message", {"conversation_id": cid, "body": "Êtes-vous là ?", "client_id": "a-1"})
    call(agent, "/console", "message", {"conversation_id": cid, "body": "Essayez ceci.", "client_id": "a-2"})

    back = widget(app, channel, identity=identity, token=token, after=1)
    hello = events(back, "/widget", "hello")[0]
    assert hello["conversation"]["id"] == cid
    assert [m["seq"] for m in hello["messages"]] == [2, 3, 4]
    assert [m["body"] for m in hello["messages"]][1:] == ["Êtes-vous là ?", "Essayez ceci."]
    # and it is back in the room: the next message reaches it live
    call(agent, "/console", "message", {"conversation_id": cid, "body": "Et maintenant ?", "client_id": "a-3"})
    assert events(back, "/widget", "message")[-1]["body"] == "Et maintenant ?"


def test_a_token_does_not_resume_someone_elses_conversation(app, desk):
    channel, _agent, _ = desk
    _client, answer = start(app, channel, identity=signed(channel, external_id="ERP-U-1"))
    other = widget(app, channel, identity=signed(channel, external_id="ERP-U-9", email="comptable@credit-solidaire.sn"), token=answer["token"])
    assert events(other, "/widget", "hello")[0]["conversation"] is None


def test_typing_and_read_receipts_go_both_ways(app, desk):
    channel, agent, _ = desk
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    isolated(client.emit, "typing", {"on": True}, namespace="/widget")
    assert events(agent, "/console", "typing")[-1] == {"conversation_id": cid, "side": "visitor", "on": True}
    isolated(agent.emit, "typing", {"conversation_id": cid, "on": True}, namespace="/console")
    assert events(client, "/widget", "typing")[-1]["on"] is True
    reply = call(agent, "/console", "message", {"conversation_id": cid, "body": "Voici", "client_id": "a"})
    call(client, "/widget", "read", {"seq": reply["message"]["seq"]})
    assert events(agent, "/console", "read")[-1]["seq"] == reply["message"]["seq"]
    call(agent, "/console", "read", {"conversation_id": cid, "seq": 1})
    assert events(client, "/widget", "read")[-1] == {"side": "agent", "seq": 1}


def test_script_in_a_message_is_kept_as_text(app, desk, db):
    channel, agent, _ = desk
    client, answer = start(app, channel, question="<script>alert('x')</script><img src=x onerror=alert(1)>")
    db.session.expire_all()
    stored = db.session.query(ChatMessage).filter_by(conversation_id=answer["conversation"]["id"]).one()
    assert stored.body == "<script>alert('x')</script><img src=x onerror=alert(1)>"  # shown with textContent on both sides


def test_oversized_and_empty_messages_are_refused_with_a_message(app, desk):
    channel, agent, _ = desk
    client, answer = start(app, channel)
    call(agent, "/console", "accept", {"conversation_id": answer["conversation"]["id"]})
    assert "trop long" in call(client, "/widget", "message", {"body": "x" * 5000, "client_id": "big"})["error"]
    assert "vide" in call(client, "/widget", "message", {"body": "   ", "client_id": "empty"})["error"]


def test_a_flooding_visitor_is_slowed_with_a_notice_and_others_are_served(app, desk):
    channel, agent, _ = desk
    flooder, answer = start(app, channel)
    call(agent, "/console", "accept", {"conversation_id": answer["conversation"]["id"]})
    answers = [call(flooder, "/widget", "message", {"body": f"spam {n}", "client_id": f"s{n}"}) for n in range(25)]
    refused = [a for a in answers if a.get("flood")]
    assert len(refused) >= 10 and "trop de messages" in refused[0]["error"]
    other, other_answer = start(app, channel, identity=signed(channel, external_id="ERP-U-2", email="comptable@credit-solidaire.sn", name="Khady Sarr"))
    assert other_answer["ok"]


# --- the console (C2) -------------------------------------------------------------------------------


def test_an_agent_cannot_exceed_their_limit(app, desk, db):
    channel, agent, _ = desk
    from tests.ticket_helpers import user

    user("agent1@novalead.com").chat_limit = 1
    db.session.commit()
    _c1, first = start(app, channel)
    _c2, second = start(app, channel, identity=signed(channel, external_id="ERP-U-2", email="comptable@credit-solidaire.sn"))
    assert call(agent, "/console", "accept", {"conversation_id": first["conversation"]["id"]}).get("ok")
    refused = call(agent, "/console", "accept", {"conversation_id": second["conversation"]["id"]})
    assert "limite" in refused["error"]


def test_two_agents_cannot_take_the_same_conversation(app, desk, db):
    channel, agent, _ = desk
    other, _ = console(app, db, "agent1b@novalead.com")
    _client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    assert call(agent, "/console", "accept", {"conversation_id": cid}).get("ok")
    assert "déjà" in call(other, "/console", "accept", {"conversation_id": cid})["error"]


def test_transfer_to_another_agent_and_back_to_waiting(app, desk, db):
    channel, agent, _ = desk
    from tests.ticket_helpers import user

    other, _ = console(app, db, "agent1b@novalead.com")
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    moved = call(agent, "/console", "transfer", {"conversation_id": cid, "agent_id": user("agent1b@novalead.com").id})
    assert moved["conversation"]["agent_name"] == "Koffi Mensah"
    assert "transférée" in events(client, "/widget", "message")[-1]["body"]
    assert "Acceptez" in call(agent, "/console", "message", {"conversation_id": cid, "body": "encore moi", "client_id": "x"})["error"]
    call(other, "/console", "open", {"conversation_id": cid})
    assert call(other, "/console", "message", {"conversation_id": cid, "body": "Je prends la suite", "client_id": "y"}).get("ok")
    back = call(other, "/console", "transfer", {"conversation_id": cid})
    assert back["conversation"]["status"] == "waiting"


def test_closing_then_rating_feeds_the_conversation(app, desk, db):
    channel, agent, _ = desk
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    assert "terminée" in call(client, "/widget", "rate", {"score": 5})["error"]
    call(agent, "/console", "close", {"conversation_id": cid})
    assert events(client, "/widget", "state")[-1]["status"] == "closed"
    assert "1 à 5" in call(client, "/widget", "rate", {"score": 9})["error"]
    assert call(client, "/widget", "rate", {"score": 4, "comment": "Rapide, merci"}).get("ok")
    db.session.expire_all()
    conversation = db.session.get(ChatConversation, cid)
    assert (conversation.rating, conversation.rating_comment, conversation.status) == (4, "Rapide, merci", ConversationStatus.CLOSED)


def test_partners_cannot_open_the_console_and_commercials_only_hear_their_clients(app, demo, db):
    channel = demo_channel(db)
    client_console, _ = console(app, db, CLIENT_EMAIL)
    assert not client_console.is_connected("/console")
    assert not isolated(app.extensions["socketio"].test_client, app, namespace="/console").is_connected("/console")  # anonymous
    mine, _ = console(app, db, "commercial1@novalead.com")  # manages Crédit Solidaire du Sahel
    theirs, _ = console(app, db, "commercial2@novalead.com")
    agent, _ = console(app, db, "agent1@novalead.com")
    _client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    assert [c["id"] for c in events(mine, "/console", "conversation")] == [cid]
    assert events(theirs, "/console", "conversation") == []
    assert call(theirs, "/console", "open", {"conversation_id": cid}).get("error")
    assert call(mine, "/console", "open", {"conversation_id": cid})["messages"][0]["body"] == "Mon export comptable échoue"
    assert call(mine, "/console", "accept", {"conversation_id": cid}).get("error")  # they follow, the support answers
    assert agent.is_connected("/console")


# --- tickets (C3, C4) --------------------------------------------------------------------------------


def test_a_conversation_becomes_a_ticket_with_its_transcript(app, desk, db):
    channel, agent, agent_http = desk
    client, answer = start(app, channel, question="Le module épargne plante")
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    call(client, "/widget", "message", {"body": "Depuis la mise à jour 5.4.2", "client_id": "w1"})
    response = agent_http.post(f"/chat/conversations/{cid}/ticket", data={"title": ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    number = response.json["ticket"]
    db.session.expire_all()
    ticket = db.session.query(Ticket).filter_by(number=number).one()
    assert ticket.channel == Channel.CHAT and ticket.title == "Le module épargne plante"
    assert ticket.requester.email == CLIENT_EMAIL and ticket.organisation.name == "Crédit Solidaire du Sahel"
    body = ticket.messages[0].body
    assert "Le module épargne plante" in body and "Depuis la mise à jour 5.4.2" in body
    assert db.session.get(ChatConversation, cid).ticket_id == ticket.id
    assert number in events(client, "/widget", "message")[-1]["body"]
    assert agent_http.post(f"/chat/conversations/{cid}/ticket").status_code == 422  # once


def test_a_conversation_is_added_to_an_existing_ticket_of_the_same_client(app, desk, db):
    from app.services import tickets
    from tests.ticket_helpers import org, user

    channel, agent, agent_http = desk
    existing = tickets.create_ticket(user(CLIENT_EMAIL), title="Export en erreur", body="Toujours en erreur")
    elsewhere = tickets.create_ticket(user("client@epargneplus.ci"), title="Autre client", body="…")
    db.session.commit()
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    assert agent_http.post(f"/chat/conversations/{cid}/attach", data={"ticket": elsewhere.number}).status_code == 422
    response = agent_http.post(f"/chat/conversations/{cid}/attach", data={"ticket": existing.number})
    assert response.json.get("ticket") == existing.number, response.json
    db.session.expire_all()
    assert "Mon export comptable échoue" in db.session.get(Ticket, existing.id).messages[-1].body
    assert org("Fonds Épargne Plus").id == elsewhere.organisation_id


def test_nobody_available_the_message_becomes_a_ticket_answered_by_email(app, demo, db):
    channel = demo_channel(db)
    anonymous = widget(app, channel, identity=None)
    hello = events(anonymous, "/widget", "hello")[0]
    assert hello["available"] is False and "Aucun agent" in hello["unavailable"]
    refused = call(anonymous, "/widget", "start", {"question": "Bonjour", "name": "Léa", "email": "lea@exemple.org"})
    assert refused["offline"]
    left = call(anonymous, "/widget", "leave_message", {"body": "Pouvez-vous me rappeler ?", "name": "Léa Martin", "email": "lea@exemple.org"})
    db.session.expire_all()
    ticket = db.session.query(Ticket).filter_by(number=left["ticket"]).one()
    assert ticket.channel == Channel.CHAT and ticket.requester_email == "lea@exemple.org"
    assert ticket.organisation.name == "Crédit Solidaire du Sahel"
    # An address nobody vouched for gets no acknowledgement (NovaDesk is nobody's mailer);
    # the agents' answers will go there.
    assert db.session.query(OutboxMail).filter_by(recipient="lea@exemple.org").count() == 0
    assert db.session.query(ChatConversation).filter_by(ticket_id=ticket.id).one().status == ConversationStatus.OFFLINE
    signed_visitor = widget(app, channel, identity=signed(channel))
    left = call(signed_visitor, "/widget", "leave_message", {"body": "Rappelez-moi demain."})
    mail = db.session.query(OutboxMail).filter_by(recipient=CLIENT_EMAIL).order_by(OutboxMail.id.desc()).first()
    assert left["ticket"] in mail.subject  # the partner vouched for this address


def test_outside_business_hours_the_widget_takes_a_message(app, desk):
    channel, _agent, _ = desk
    app.config["CHAT_BUSINESS_HOURS_ONLY"] = True
    try:
        with clock.frozen(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)):  # a Sunday night
            hello = events(widget(app, channel, identity=signed(channel)), "/widget", "hello")[0]
    finally:
        app.config["CHAT_BUSINESS_HOURS_ONLY"] = False
    assert hello["available"] is False and "fermé" in hello["unavailable"]


def test_every_agent_at_their_limit_means_unavailable(app, desk, db):
    from tests.ticket_helpers import user

    channel, agent, _ = desk
    user("agent1@novalead.com").chat_limit = 1
    db.session.commit()
    _c, answer = start(app, channel)
    call(agent, "/console", "accept", {"conversation_id": answer["conversation"]["id"]})
    hello = events(widget(app, channel, identity=signed(channel, external_id="x2", email="comptable@credit-solidaire.sn")), "/widget", "hello")[0]
    assert hello["available"] is False and "occupés" in hello["unavailable"]


def test_an_away_agent_is_not_available(app, desk):
    channel, agent, _ = desk
    call(agent, "/console", "status", {"available": False})
    assert events(widget(app, channel, identity=signed(channel)), "/widget", "hello")[0]["available"] is False


# --- files ---------------------------------------------------------------------------------------------


def test_images_go_through_the_attachment_checks(app, desk, db):
    channel, agent, agent_http = desk
    client, answer = start(app, channel)
    cid, token = answer["conversation"]["id"], answer["token"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    http = app.test_client()
    headers = {"X-Channel": channel.public_key, "X-Conversation-Token": token, "Origin": "http://novadesk.test"}  # from the frame
    for elsewhere in ({}, {"Origin": "https://evil.example"}):  # a script, a foreign page: refused before anything is read
        refused = http.post("/widget/upload", data={"file": (io.BytesIO(png_bytes()), "ecran.png")}, headers={**{k: v for k, v in headers.items() if k != "Origin"}, **elsewhere}, content_type="multipart/form-data")
        assert refused.status_code == 403
    disguised = http.post("/widget/upload", data={"file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "facture.pdf")}, headers=headers, content_type="multipart/form-data")
    assert disguised.status_code == 422 and disguised.json["error"]
    forged = http.post("/widget/upload", data={"file": (io.BytesIO(png_bytes()), "ecran.png")}, headers=dict(headers, **{"X-Conversation-Token": "nope"}), content_type="multipart/form-data")
    assert forged.status_code == 404
    uploaded = http.post("/widget/upload", data={"file": (io.BytesIO(png_bytes()), "ecran.png")}, headers=headers, content_type="multipart/form-data")
    assert uploaded.status_code == 200
    sent = call(client, "/widget", "message", {"body": "", "file_id": uploaded.json["file_id"], "client_id": "f1"})
    link = sent["message"]["file"]["url"]
    assert sent["message"]["file"]["is_image"]
    assert events(agent, "/console", "message")[-1]["file"]["url"] == link
    picture = http.get(link)
    assert picture.status_code == 200 and picture.data.startswith(b"\x89PNG")
    assert http.get(link[:-4] + "0000").status_code == 404  # the link's signature is checked
    assert http.get(link.rsplit("/", 1)[0] + "/%C3%A9%C3%A9").status_code == 404


def test_chat_ratings_and_waits_feed_the_figures_of_those_who_may_see_them(app, desk, db):
    from app.services import figures
    from tests.ticket_helpers import user

    channel, agent, agent_http = desk
    client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    call(agent, "/console", "close", {"conversation_id": cid})
    call(client, "/widget", "rate", {"score": 5})
    period = figures.last_days(30, "Europe/Paris")
    db.session.expire_all()
    seen = figures.chat_summary(user("superviseur@novalead.com"), period)
    assert (seen["conversations"], seen["answered"], seen["ratings"], seen["satisfaction_rate"]) == (1, 1, 1, 100.0)
    assert figures.chat_summary(user("commercial1@novalead.com"), period)["conversations"] == 1  # their client
    assert figures.chat_summary(user("commercial2@novalead.com"), period)["conversations"] == 0
    dashboard = agent_http.get("/dashboard/data").json
    assert dashboard["chat"]["satisfaction_label"] == "100 %"


def test_a_console_whose_process_died_stops_counting_as_online(app, desk, db):
    """Its heartbeat never comes again: after 90 s nobody is available, and the worker
    clears the row."""
    from datetime import timedelta

    from app.models import ChatPresence
    from app.worker import run_once

    channel, _agent, _ = desk
    later = clock.now() + timedelta(seconds=chat.PRESENCE_SECONDS + 5)
    with clock.frozen(later):
        assert events(widget(app, channel, identity=signed(channel)), "/widget", "hello")[0]["available"] is False
    with clock.frozen(clock.now() + timedelta(seconds=chat.PRESENCE_SECONDS * 5)):
        run_once(app)
    db.session.expire_all()
    assert db.session.query(ChatPresence).count() == 0


def test_a_visitor_reconnecting_again_and_again_cannot_open_chats_without_end(app, desk):
    channel, _agent, _ = desk
    app.config["CHAT_STARTS_PER_HOUR"] = "3 per hour"
    try:
        answers = []
        for n in range(5):
            client = widget(app, channel, identity=signed(channel, external_id=f"v{n}", email=f"v{n}@credit-solidaire.sn"))
            answers.append(call(client, "/widget", "start", {"question": "Bonjour"}))
    finally:
        app.config["CHAT_STARTS_PER_HOUR"] = "30 per hour"
    assert [bool(a.get("ok")) for a in answers] == [True, True, True, False, False]
    assert "réessayez plus tard" in answers[-1]["error"]


def test_a_new_chat_is_announced_to_webhooks(app, desk, db):
    """chat.started, signed, once, with the organisation the ERP knows."""
    import hashlib
    import hmac
    import json

    from app.models import WebhookEvent
    from tests.test_webhooks import Receiver, _deliver_until_done, _subscribe

    channel, _agent, _ = desk
    app.config["WEBHOOK_RETRY_SECONDS"] = 0  # retry at the next pass
    try:
        with Receiver(failures=1) as receiver:
            subscription = _subscribe(db, receiver.url, events=[WebhookEvent.CHAT_STARTED])
            _client, answer = start(app, channel, question="Le module épargne plante")
            _deliver_until_done(app)
    finally:
        app.config["WEBHOOK_RETRY_SECONDS"] = 30
    assert len(receiver.accepted) == 1
    headers, body = receiver.accepted[0]
    event = json.loads(body)
    assert event["event"] == "chat.started" and event["data"]["conversation"]["id"] == answer["conversation"]["id"]
    assert event["data"]["conversation"]["organisation"]["external_id"] == "ERP-0101"
    # exactly the fields app/services/webhooks.py documents for chat.started
    assert set(event["data"]["conversation"]) == {"id", "organisation", "visitor_external_id", "visitor_email", "identified", "question", "started_on"}
    expected = "sha256=" + hmac.new(subscription.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-NovaDesk-Signature"] == expected


def test_a_persons_conversations_are_exported_then_erased_without_moving_the_figures(app, desk, db):
    """A4 through the chat: the export holds their conversations; after erasure no table keeps
    their name, address or phone, and the chat figures are the same."""
    from app.services import figures, personal_data
    from tests.test_personal_data import _traces
    from tests.ticket_helpers import png_bytes, user

    channel, agent, _ = desk
    user(CLIENT_EMAIL).phone = "+221 77 654 32 10"  # the number on their account, typed in the chat
    db.session.commit()
    client, answer = start(app, channel, question="Rappelez-moi au 77 654 32 10, Ibrahima Fall")
    cid, token = answer["conversation"]["id"], answer["token"]
    call(agent, "/console", "accept", {"conversation_id": cid})
    uploaded = app.test_client().post(
        "/widget/upload", data={"file": (io.BytesIO(png_bytes()), "moi.png")}, content_type="multipart/form-data",
        headers={"X-Channel": channel.public_key, "X-Conversation-Token": token, "Origin": HOST},
    )
    call(client, "/widget", "message", {"body": "", "file_id": uploaded.json["file_id"], "client_id": "f"})
    call(agent, "/console", "close", {"conversation_id": cid})
    call(client, "/widget", "rate", {"score": 4, "comment": "Merci, signé Ibrahima Fall"})
    period = figures.last_days(30, "Europe/Paris")
    supervisor = user("superviseur@novalead.com")
    db.session.expire_all()
    before = figures.chat_summary(supervisor, period)

    person = personal_data.find_person(CLIENT_EMAIL)
    exported = personal_data.export(person)["holders"]["chat"]["data"]
    assert exported[0]["conversation"] == cid and exported[0]["messages"][0]["text"].startswith("Rappelez-moi")
    assert exported[0]["rating_comment"] == "Merci, signé Ibrahima Fall"
    personal_data.erase(user("admin@novalead.com"), person)
    db.session.commit()
    db.session.expire_all()
    traces = [t for t in _traces(db, [CLIENT_EMAIL, "Ibrahima Fall", "77 654 32 10", "ERP-U-1"]) if t.startswith("chat_")]
    assert traces == []
    assert figures.chat_summary(supervisor, period) == before
    conversation = db.session.get(ChatConversation, cid)
    assert conversation.visitor_name == "Personne anonymisée" and conversation.rating == 4
    assert db.session.query(ChatMessage).filter_by(conversation_id=cid, file_id=None).count() == db.session.query(ChatMessage).filter_by(conversation_id=cid).count()


def test_reconnecting_does_not_reset_the_message_allowance(app, desk):
    channel, agent, _ = desk
    identity = signed(channel)
    client, answer = start(app, channel, identity=identity)
    call(agent, "/console", "accept", {"conversation_id": answer["conversation"]["id"]})
    accepted = 0
    for round_ in range(4):  # a burst, a new connection with the same token, again…
        again = widget(app, channel, identity=identity, token=answer["token"])
        accepted += sum(1 for n in range(12) if call(again, "/widget", "message", {"body": "encore", "client_id": f"r{round_}-{n}"}).get("ok"))
    assert accepted <= app.config["CHAT_MESSAGES_PER_MINUTE"] + 10


def test_absurd_numbers_from_a_visitor_change_nothing(app, desk):
    channel, _agent, _ = desk
    identity = signed(channel)
    _client, answer = start(app, channel, identity=identity)
    back = widget(app, channel, identity=identity, token=answer["token"], after=10**30)
    assert back.is_connected("/widget")
    assert [m["seq"] for m in events(back, "/widget", "hello")[0]["messages"]] == [1]  # read as "from the start"
    assert call(back, "/widget", "read", {"seq": 10**40}).get("ok")


def test_an_agents_message_keeps_its_checks_without_a_request(app, desk, db, monkeypatch):
    """An agent's message skips the per-event request context while the console's check is
    fresh: the conversation must still be theirs, the refusal comes in the console's language,
    and once the check has aged a deactivated agent is refused."""
    from app.models import NovaUser
    from app.realtime import console as console_namespace

    channel, agent, agent_http = desk
    _client, answer = start(app, channel)
    cid = answer["conversation"]["id"]
    english, english_http = console(app, db, "agent2@novalead.com")
    isolated(english_http.get, "/lang/en")
    english.disconnect(namespace="/console")
    isolated(english.connect, namespace="/console")  # the console opened again, in English
    refused = call(english, "/console", "message", {"conversation_id": cid, "body": "Bonjour", "client_id": "x-1"})
    assert refused["error"] == "Accept this conversation first."

    assert call(agent, "/console", "accept", {"conversation_id": cid})["ok"]
    assert call(agent, "/console", "message", {"conversation_id": cid, "body": "Je regarde.", "client_id": "a-1"})["ok"]
    db.session.query(NovaUser).filter_by(email="agent1@novalead.com").update({"active": False})
    db.session.commit()
    monkeypatch.setattr(console_namespace, "RECHECK_SECONDS", 0)  # the 30 s are up
    late = call(agent, "/console", "message", {"conversation_id": cid, "body": "Encore là ?", "client_id": "a-2"})
    assert "error" in late
    db.session.expire_all()
    assert db.session.query(ChatMessage).filter_by(conversation_id=cid, client_id="a-2").count() == 0
