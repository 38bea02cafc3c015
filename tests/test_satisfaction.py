"""Satisfaction (P4): the e-mailed link works once, without signing in, until it expires;
a tampered link, or one carried to another ticket, works never. The portal's ticket page asks
the same question; the rating shows on the ticket for the support too."""
import html
import re
from datetime import timedelta

import pytest

from app.models import OutboxMail, SatisfactionInvite, SatisfactionRating
from app.services import clock, tickets
from tests.conftest import login
from tests.ticket_helpers import org, status, user

INVALID = "Ce lien d'évaluation n'est plus valable"


def resolve_new_ticket(app, db, title="Import bloqué", organisation="Baobab Microcrédit", requester="client@baobab-mc.tg"):
    agent = user("agent1@novalead.com")
    with app.test_request_context():
        ticket = tickets.create_ticket(user(requester), title=title, body="b", organisation_id=org(organisation).id)
        tickets.add_message(agent, ticket, "Corrigé")
        tickets.change_status(agent, ticket, status("resolved").id)
        db.session.commit()
    return ticket


def link_in_mail(db, ticket):
    db.session.expire_all()
    mail = db.session.query(OutboxMail).filter_by(kind="ticket_resolved").order_by(OutboxMail.id.desc()).first()
    assert mail is not None and ticket.number in mail.subject  # one mail says "resolved" and asks
    return re.search(r"https?://[^/\s]+(/satisfaction/\S+)", mail.body_text).group(1)


def test_the_link_works_once_without_signing_in(app, demo):
    ticket = resolve_new_ticket(app, demo)
    path = link_in_mail(demo, ticket)
    anonymous = app.test_client()
    page = html.unescape(anonymous.get(path).get_data(as_text=True))
    assert "Votre avis sur la demande" in page and ticket.title in page
    assert demo.session.query(SatisfactionInvite).one().used_on is None  # looking is not answering
    response = anonymous.post(path, data={"score": "4", "comment": "Rapide et clair"})
    assert response.status_code == 200 and "Merci pour votre avis" in html.unescape(response.get_data(as_text=True))
    rating = demo.session.query(SatisfactionRating).one()
    assert (rating.score, rating.comment, rating.via, rating.rated_by.email) == (4, "Rapide et clair", "email", "client@baobab-mc.tg")
    again = anonymous.post(path, data={"score": "1", "comment": "Changé d'avis"})
    assert again.status_code == 404 and INVALID in html.unescape(again.get_data(as_text=True))
    assert anonymous.get(path).status_code == 404
    demo.session.expire_all()
    assert demo.session.query(SatisfactionRating).one().score == 4


def test_an_expired_link_is_refused(app, demo):
    ticket = resolve_new_ticket(app, demo)
    path = link_in_mail(demo, ticket)
    with clock.frozen(clock.now() + timedelta(days=app.config["SATISFACTION_LINK_DAYS"], minutes=1)):
        assert app.test_client().post(path, data={"score": "5"}).status_code == 404
    assert demo.session.query(SatisfactionRating).count() == 0


def test_a_tampered_link_is_refused(app, demo):
    ticket = resolve_new_ticket(app, demo)
    path = link_in_mail(demo, ticket)
    token = path.rsplit("/", 1)[1]
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (path.rsplit("/", 1)[0] + "/" + changed, path.rsplit("/", 1)[0] + "/x", path + "x" * 100):
        assert app.test_client().post(bad, data={"score": "5"}).status_code == 404
    assert demo.session.query(SatisfactionRating).count() == 0


def test_a_link_carried_to_another_ticket_is_refused(app, demo):
    first = resolve_new_ticket(app, demo)
    path = link_in_mail(demo, first)
    other = resolve_new_ticket(app, demo, title="Autre demande")
    moved = path.replace(f"/satisfaction/{first.id}/", f"/satisfaction/{other.id}/")
    assert app.test_client().post(moved, data={"score": "1"}).status_code == 404
    assert demo.session.query(SatisfactionRating).count() == 0
    assert app.test_client().post(path, data={"score": "5"}).status_code == 200  # still good for its own ticket


def test_a_reopened_ticket_asks_again_at_its_next_resolution(app, demo):
    ticket = resolve_new_ticket(app, demo)
    path = link_in_mail(demo, ticket)
    with app.test_request_context():
        tickets.add_message(user("client@baobab-mc.tg"), ticket, "Toujours en erreur")  # reopens
        demo.session.commit()
    assert app.test_client().post(path, data={"score": "5"}).status_code == 404
    with app.test_request_context():
        tickets.change_status(user("agent1@novalead.com"), ticket, status("resolved").id)
        demo.session.commit()
    assert link_in_mail(demo, ticket) != path
    assert app.test_client().post(link_in_mail(demo, ticket), data={"score": "3"}).status_code == 200


def test_a_wrong_score_keeps_the_link(app, demo):
    ticket = resolve_new_ticket(app, demo)
    path = link_in_mail(demo, ticket)
    page = html.unescape(app.test_client().post(path, data={"score": "9", "comment": "?"}).get_data(as_text=True))
    assert "Choisissez une note de 1 à 5." in page
    assert app.test_client().post(path, data={"score": "5"}).status_code == 200


def test_no_question_when_the_client_closes_it_alone(app, demo):
    client = user("client@baobab-mc.tg")
    with app.test_request_context():
        ticket = tickets.create_ticket(client, title="Fausse alerte", body="b", organisation_id=org("Baobab Microcrédit").id)
        tickets.change_status(client, ticket, status("closed").id)
        demo.session.commit()
    assert demo.session.query(SatisfactionInvite).count() == 0


def test_rating_from_the_portal_and_shown_to_the_support(app, demo):
    ticket = resolve_new_ticket(app, demo)
    client = app.test_client()
    login(client, demo, "client@baobab-mc.tg")
    page = html.unescape(client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    assert "comment s'est passé son traitement" in page
    client.post(f"/tickets/{ticket.id}/rate", data={"score": "5", "comment": "Parfait"})
    agent = app.test_client()
    login(agent, demo, "agent1@novalead.com")
    page = html.unescape(agent.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    assert "5 sur 5" in page and "Parfait" in page
    assert "Envoyer mon avis" not in page  # the support does not rate itself
    agent.post(f"/tickets/{ticket.id}/rate", data={"score": "1"})
    demo.session.expire_all()
    assert demo.session.query(SatisfactionRating).one().score == 5


@pytest.mark.parametrize("email", ["client@credit-solidaire.sn", "revendeur@afrilog.ci"])
def test_another_organisation_cannot_rate(app, demo, email):
    ticket = resolve_new_ticket(app, demo)
    client = app.test_client()
    login(client, demo, email)
    assert client.post(f"/tickets/{ticket.id}/rate", data={"score": "1"}).status_code == 404
    assert demo.session.query(SatisfactionRating).count() == 0


def test_an_open_ticket_cannot_be_rated(app, demo):
    client_user = user("client@baobab-mc.tg")
    with app.test_request_context():
        ticket = tickets.create_ticket(client_user, title="En cours", body="b", organisation_id=org("Baobab Microcrédit").id)
        demo.session.commit()
    client = app.test_client()
    login(client, demo, "client@baobab-mc.tg")
    response = client.post(f"/tickets/{ticket.id}/rate", data={"score": "5"}, follow_redirects=True)
    assert "ne peut pas être notée" in html.unescape(response.get_data(as_text=True))
    assert demo.session.query(SatisfactionRating).count() == 0
