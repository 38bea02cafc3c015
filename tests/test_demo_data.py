"""`make run`'s demo data loads whole (tickets, mail, chats) through the real services, and a
second load changes nothing."""
import pytest

from app.models import ChatConversation, ConversationStatus, InboundMail, Ticket


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # seeds, not storage: one database is enough
def test_the_whole_demo_loads_and_loads_once(app, db):
    from seeds.demo import load_demo, load_demo_if_empty

    note = load_demo()
    assert "Demo tickets ready: 200" in note and "Demo chats: 3" in note
    statuses = sorted(c.status for c in db.session.query(ChatConversation))
    assert statuses == sorted([ConversationStatus.CLOSED, ConversationStatus.CLOSED, ConversationStatus.OFFLINE])
    assert db.session.query(ChatConversation).filter(ChatConversation.ticket_id.isnot(None)).count() == 2
    assert db.session.query(InboundMail).count() > 0
    tickets = db.session.query(Ticket).count()
    assert "already" in load_demo_if_empty()
    assert db.session.query(Ticket).count() == tickets
