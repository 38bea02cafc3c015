"""Account requests (U5) and forgotten passwords, with the mail at each step."""
import re

from app.models import AccountRequest, AccountRequestStatus, NovaUser, OutboxMail
from tests.conftest import DEMO_PASSWORD, latest_mail, login

FORM = {
    "first_name": "Mamadou",
    "last_name": "Cissé",
    "organisation_name": "Crédit Solidaire du Sahel",
    "phone": "+221 77 000 00 00",
    "password": "Nouveau-mot-2026",
    "confirm": "Nouveau-mot-2026",
    "message": "",
    "website": "",
}


def link_in(mail):
    return re.search(r"https?://\S+", mail.body_text).group(0)


def path_of(link):
    return "/" + link.split("/", 3)[3]


def test_known_domain_gets_an_account_after_confirmation(client, demo):
    email = "mamadou@credit-solidaire.sn"
    page = client.post("/account-request/", data={**FORM, "email": email})
    assert "e-mail de confirmation" in page.get_data(as_text=True)
    assert demo.session.query(NovaUser).filter_by(email=email).count() == 0  # nothing before confirmation
    confirm = latest_mail(demo, email)
    assert "Confirmez votre demande" in confirm.subject
    done = client.get(path_of(link_in(confirm)))
    assert "compte est ouvert" in done.get_data(as_text=True)
    person = demo.session.query(NovaUser).filter_by(email=email).one()
    assert person.organisation.name == "Crédit Solidaire du Sahel"
    assert {r.name for r in person.roles} == {"Client"}
    assert "Votre compte NovaDesk est prêt" in latest_mail(demo, email).subject
    again = client.get(path_of(link_in(confirm)))  # following the link twice changes nothing
    assert again.status_code == 200
    assert demo.session.query(NovaUser).filter_by(email=email).count() == 1
    login(client, demo, email, password=FORM["password"])


def test_unknown_domain_waits_for_an_admin(app, client, demo):
    email = "awa@nouvelle-imf.org"
    client.post("/account-request/", data={**FORM, "email": email, "organisation_name": "Nouvelle IMF"})
    client.get(path_of(link_in(latest_mail(demo, email))))
    request = demo.session.query(AccountRequest).filter_by(email=email).one()
    assert request.status == AccountRequestStatus.PENDING
    assert "en cours d'examen" in latest_mail(demo, email).subject
    assert "Demande de compte à examiner" in latest_mail(demo, "admin@novalead.com").subject
    admin = app.test_client()
    login(admin, demo, "admin@novalead.com")
    # Approving without an organisation is refused and changes nothing.
    admin.post("/account-requests/action_post", data={"action": "approve", "rowid": [request.id]})
    demo.session.expire_all()
    assert request.status == AccountRequestStatus.PENDING
    org_id = demo.session.query(NovaUser).filter_by(email="client@baobab-mc.tg").one().organisation_id
    admin.post(f"/account-requests/edit/{request.id}", data={"organisation": org_id})
    admin.post("/account-requests/action_post", data={"action": "approve", "rowid": [request.id]})
    demo.session.expire_all()
    assert request.status == AccountRequestStatus.APPROVED
    assert request.user.organisation_id == org_id
    assert request.decided_by.email == "admin@novalead.com"


def test_existing_address_gets_the_same_answer_and_a_reminder(client, demo):
    email = "client@credit-solidaire.sn"
    page = client.post("/account-request/", data={**FORM, "email": email})
    assert "e-mail de confirmation" in page.get_data(as_text=True)
    assert demo.session.query(AccountRequest).count() == 0
    assert "déjà un compte" in latest_mail(demo, email).subject


def test_bad_input_changes_nothing(client, demo):
    weak = client.post("/account-request/", data={**FORM, "email": "x@credit-solidaire.sn", "password": "court", "confirm": "court"})
    assert "au moins" in weak.get_data(as_text=True)
    malformed = client.post("/account-request/", data={**FORM, "email": "pas-une-adresse"})
    assert malformed.status_code == 200
    script = client.post("/account-request/", data={**FORM, "email": "y@credit-solidaire.sn", "first_name": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in script.get_data(as_text=True)
    bot = client.post("/account-request/", data={**FORM, "email": "bot@credit-solidaire.sn", "website": "http://spam"})
    assert bot.status_code == 200
    requests = {r.email for r in demo.session.query(AccountRequest)}
    assert "x@credit-solidaire.sn" not in requests and "bot@credit-solidaire.sn" not in requests
    assert demo.session.query(OutboxMail).filter_by(recipient="bot@credit-solidaire.sn").count() == 0


def test_forged_confirmation_link_is_refused(client, demo):
    response = client.get("/account-request/confirm/not-a-real-token", follow_redirects=True)
    assert "invalide ou a expiré" in response.get_data(as_text=True)


def test_password_reset_link_works_once(app, client, demo):
    email = "client@epargneplus.ci"
    page = client.post("/forgot-password/", data={"email": email}, follow_redirects=True)
    assert "Si un compte actif correspond" in page.get_data(as_text=True)
    unknown = client.post("/forgot-password/", data={"email": "ghost@nowhere.org"}, follow_redirects=True)
    assert "Si un compte actif correspond" in unknown.get_data(as_text=True)
    assert demo.session.query(OutboxMail).filter_by(recipient="ghost@nowhere.org").count() == 0
    link = path_of(link_in(latest_mail(demo, email)))
    client.post(link, data={"password": "Autre-secret-99", "confirm": "Autre-secret-99"})
    login(app.test_client(), demo, email, password="Autre-secret-99")
    reused = client.post(link, data={"password": "Encore-autre-77", "confirm": "Encore-autre-77"}, follow_redirects=True)
    assert "invalide ou a déjà servi" in reused.get_data(as_text=True)
    old = app.test_client().post("/login/", data={"email": email, "password": DEMO_PASSWORD})
    assert "incorrect" in old.get_data(as_text=True)
