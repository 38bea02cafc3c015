"""Signing in with each factor, and every way it must refuse (U3, U7)."""
import time
from datetime import timedelta

import pyotp
import pytest

from app.models import ActivityLog, NovaUser
from app.models.types import utcnow
from tests.conftest import DEMO_PASSWORD, code_from_mail, latest_mail, login

CLIENT = "client@credit-solidaire.sn"
ADMIN = "admin@novalead.com"


def user(db, email):
    db.session.expire_all()
    return db.session.query(NovaUser).filter_by(email=email).one()


def logged_in(client):
    return client.get("/", follow_redirects=False).status_code == 200


def test_email_code_login_reaches_home(client, demo):
    response = client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert response.headers["Location"].endswith("/login/verify")
    assert not logged_in(client)
    mail = latest_mail(demo, CLIENT)
    assert "Votre code de connexion" in mail.subject  # French by default
    client.post("/login/verify", data={"code": code_from_mail(demo, CLIENT)})
    page = client.get("/")
    assert page.status_code == 200
    assert "Bonjour Ibrahima" in page.get_data(as_text=True)
    actions = [entry.action for entry in demo.session.query(ActivityLog).filter_by(subject_user_id=user(demo, CLIENT).id)]
    assert {"2fa.code_sent", "2fa.verified", "login.success"} <= set(actions)


def test_wrong_password_is_refused_with_a_generic_message(client, demo):
    response = client.post("/login/", data={"email": CLIENT, "password": "wrong-password-1"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in response.get_data(as_text=True)
    unknown = client.post("/login/", data={"email": "nobody@nowhere.example", "password": "wrong-password-1"})
    assert "Adresse e-mail ou mot de passe incorrect" in unknown.get_data(as_text=True)
    assert not logged_in(client)


def test_wrong_code_then_right_code(client, demo):
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    code = code_from_mail(demo, CLIENT)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/login/verify", data={"code": wrong})
    assert "Code incorrect ou expiré" in response.get_data(as_text=True)
    assert not logged_in(client)
    client.post("/login/verify", data={"code": code})
    assert logged_in(client)


def test_expired_code_is_refused(client, demo):
    from app.models import EmailCode

    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    code = code_from_mail(demo, CLIENT)
    demo.session.query(EmailCode).update({EmailCode.expires_on: utcnow() - timedelta(seconds=1)})
    demo.session.commit()
    response = client.post("/login/verify", data={"code": code})
    assert "Code incorrect ou expiré" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_code_cannot_be_replayed(app, client, demo):
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    code = code_from_mail(demo, CLIENT)
    client.post("/login/verify", data={"code": code})
    assert logged_in(client)
    other = app.test_client()
    other.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    response = other.post("/login/verify", data={"code": code})  # the first session's code
    assert "Code incorrect ou expiré" in response.get_data(as_text=True)
    assert not logged_in(other)


def test_code_is_stored_hashed(client, demo):
    from app.models import EmailCode

    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    code = code_from_mail(demo, CLIENT)
    stored = demo.session.query(EmailCode).one()
    assert code not in stored.code_hash


def test_lockout_after_repeated_failures(client, demo):
    for _ in range(5):
        client.post("/login/", data={"email": CLIENT, "password": "wrong-password-1"})
    response = client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert not logged_in(client)
    actions = {e.action for e in demo.session.query(ActivityLog).all()}
    assert "login.locked" in actions and "login.refused_locked" in actions


def test_lockout_after_repeated_wrong_codes(client, demo):
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    for _ in range(5):
        client.post("/login/verify", data={"code": "999999"})
    response = client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_deactivated_user_cannot_log_in_and_is_signed_out(app, client, demo):
    login(client, demo, CLIENT)
    assert logged_in(client)
    person = user(demo, CLIENT)
    person.active = False
    demo.session.commit()
    assert not logged_in(client)  # the open session ends too
    response = client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert "Adresse e-mail ou mot de passe incorrect" in response.get_data(as_text=True)
    assert demo.session.query(ActivityLog).filter_by(subject_user_id=person.id).count() > 0  # history kept


def _enrol_totp(client, demo, email):
    login(client, demo, email)
    client.post("/account/security/totp/start")
    with client.session_transaction() as session:
        secret = session["novadesk_totp_enrolment"]
    page = client.post("/account/security/totp/confirm", data={"code": pyotp.TOTP(secret).now()})
    text = page.get_data(as_text=True)
    assert "authentification activée" in text
    import re

    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", text)
    assert len(codes) == 10
    client.post("/logout/")
    return secret, codes


def test_totp_login_and_replay_refused(app, client, demo):
    secret, _ = _enrol_totp(client, demo, CLIENT)
    totp = pyotp.TOTP(secret)
    # The enrolment used the current step; the next step's code is within the allowed drift.
    code = totp.at(time.time() + 30)
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert "affiché par votre application" in client.get("/login/verify").get_data(as_text=True)
    assert latest_mail(demo, CLIENT).subject.startswith("Votre code") is True  # no new mail code was sent…
    assert demo.session.query(ActivityLog).filter_by(action="2fa.code_sent").count() == 1  # …since enrolment's login
    client.post("/login/verify", data={"code": code})
    assert logged_in(client)
    other = app.test_client()
    other.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    response = other.post("/login/verify", data={"code": code})  # replayed
    assert "Code incorrect" in response.get_data(as_text=True)
    assert not logged_in(other)


def test_recovery_code_works_once(app, client, demo):
    _, codes = _enrol_totp(client, demo, CLIENT)
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    client.post("/login/verify", data={"code": codes[0]})
    assert logged_in(client)
    client.post("/logout/")
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    response = client.post("/login/verify", data={"code": codes[0]})
    assert "Code incorrect" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_role_requiring_2fa_keeps_email_code(client, demo):
    login(client, demo, ADMIN)
    response = client.post("/account/security/email", data={"enabled": ""}, follow_redirects=True)
    assert "Votre rôle exige une double authentification" in response.get_data(as_text=True)
    assert user(demo, ADMIN).two_factor_email is True


def test_user_without_2fa_logs_in_with_password_only(client, demo):
    login(client, demo, CLIENT)
    client.post("/account/security/email", data={"enabled": ""})
    assert user(demo, CLIENT).two_factor_email is False
    client.post("/logout/")
    response = client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert not response.headers["Location"].endswith("/login/verify")
    assert logged_in(client)


def test_admin_can_require_2fa_for_a_role(client, demo):
    from app.models import RolePolicy

    person = user(demo, CLIENT)
    person.two_factor_email = False
    demo.session.commit()
    login(client, demo, ADMIN)
    policy = next(p for p in demo.session.query(RolePolicy).all() if p.role.name == "Client")
    client.post(f"/role-policies/edit/{policy.id}", data={"two_factor_required": "y"})
    client.post("/logout/")
    response = client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert response.headers["Location"].endswith("/login/verify")


# --- the API's token endpoint --------------------------------------------------------


def test_api_token_requires_the_second_factor(client, demo):
    first = client.post("/api/v1/security/login", json={"username": CLIENT, "password": DEMO_PASSWORD, "provider": "db"})
    assert first.status_code == 401
    assert "access_token" not in first.json
    assert first.json["second_factor"] == "email"
    wrong = client.post("/api/v1/security/login", json={"mfa_token": first.json["mfa_token"], "code": "000001"})
    assert wrong.status_code == 401 and "access_token" not in wrong.json
    forged = client.post("/api/v1/security/login", json={"mfa_token": "forged." + first.json["mfa_token"][7:], "code": code_from_mail(demo, CLIENT)})
    assert forged.status_code == 401 and "access_token" not in forged.json
    good = client.post("/api/v1/security/login", json={"mfa_token": first.json["mfa_token"], "code": code_from_mail(demo, CLIENT)})
    assert good.status_code == 200
    token = good.json["access_token"]
    listing = client.get("/api/v1/organisation/", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200


def test_api_token_refused_for_deactivated_user(client, demo):
    from tests.conftest import api_token

    token = api_token(client, demo, CLIENT)
    person = user(demo, CLIENT)
    person.active = False
    demo.session.commit()
    assert client.get("/api/v1/organisation/", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    again = client.post("/api/v1/security/login", json={"username": CLIENT, "password": DEMO_PASSWORD, "provider": "db"})
    assert again.status_code == 401 and "mfa_token" not in again.json


def test_api_key_works_until_revoked(client, demo):
    login(client, demo, ADMIN)
    response = client.post("/api-keys/issue", data={"user_email": CLIENT, "name": "ERP sync"}, follow_redirects=True)
    import re

    key = re.search(r"(nd_[A-Za-z0-9_\-]+)", response.get_data(as_text=True)).group(1)
    api = demo.session.query(NovaUser).filter_by(email=CLIENT).one()
    headers = {"Authorization": f"Bearer {key}"}
    anonymous = client.application.test_client()
    listing = anonymous.get("/api/v1/organisation/", headers=headers)
    assert listing.status_code == 200
    assert [row["name"] for row in listing.json["result"]] == ["Crédit Solidaire du Sahel"]
    from flask_appbuilder.security.sqla.models import ApiKey

    key_row = demo.session.query(ApiKey).filter_by(user_id=api.id).one()
    client.post("/api-keys/action_post", data={"action": "revoke", "rowid": [key_row.id]})
    assert anonymous.get("/api/v1/organisation/", headers=headers).status_code == 401


def test_login_rate_limit(app, client, demo):
    statuses = [client.post("/login/", data={"email": CLIENT, "password": "x"}).status_code for _ in range(25)]
    assert 429 in statuses


@pytest.mark.parametrize("path", ["/login/", "/account-request/", "/forgot-password/"])
def test_forms_need_a_csrf_token(app, client, demo, path):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(path, data={"email": CLIENT, "password": DEMO_PASSWORD})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert not logged_in(client)
