"""Sessions end on the server (U3, U7): a session cookie or an API token copied before a
sign-out, a password change or reset, a deactivation or an admin's « Terminer toutes les
sessions » stops working at once; each person sees and ends their own sessions."""
import contextvars
import re

import pytest

from app.models import ActivityLog, NovaUser, UserSession
from tests.conftest import DEMO_PASSWORD, api_token, latest_mail, login

CLIENT = "client@credit-solidaire.sn"
ADMIN = "admin@novalead.com"
AGENT = "agent1@novalead.com"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"


def signed_in(client):
    return client.get("/", follow_redirects=False).status_code == 200


def session_cookie(client):
    return client.get_cookie("session", domain="novadesk.test").value


def browser_with(app, cookie):
    """Another browser holding a copy of a session cookie (as a thief would)."""
    other = app.test_client()
    other.set_cookie("session", cookie, domain="novadesk.test")
    return other


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def api_tokens(client, db, email):
    """An access and a refresh token, through the two-step sign-in of the API."""
    first = client.post("/api/v1/security/login", json={"username": email, "password": DEMO_PASSWORD, "provider": "db", "refresh": True})
    if first.status_code == 401:
        from tests.conftest import code_from_mail

        first = client.post("/api/v1/security/login", json={"mfa_token": first.json["mfa_token"], "code": code_from_mail(db, email), "refresh": True})
    assert first.status_code == 200, first.json
    return first.json["access_token"], first.json["refresh_token"]


def test_a_cookie_kept_after_sign_out_no_longer_signs_anyone_in(app, client, demo):
    login(client, demo, CLIENT)
    copied = session_cookie(client)
    assert signed_in(browser_with(app, copied))
    client.post("/logout/")
    assert not signed_in(client)
    assert not signed_in(browser_with(app, copied))  # the server ended it, not just the browser


def test_sign_out_needs_a_post_with_its_csrf_token(app, client, demo):
    login(client, demo, CLIENT)
    page = client.get("/logout/")  # a link or an image on another site
    assert page.status_code == 200 and "Voulez-vous fermer votre session" in page.get_data(as_text=True)
    assert signed_in(client)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        forged = client.post("/logout/")  # a form on another site, without the token
        assert forged.status_code == 400
        assert signed_in(client)
        home = client.get("/").get_data(as_text=True)
        token = re.search(r'class="nd-logout-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', home).group(1)
        assert client.post("/logout/", data={"csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert not signed_in(client)


def test_a_password_change_ends_every_other_session_at_once(app, client, demo):
    login(client, demo, CLIENT)
    elsewhere = app.test_client()
    login(elsewhere, demo, CLIENT)
    access, refresh = api_tokens(app.test_client(), demo, CLIENT)
    response = client.post("/resetmypassword/form", data={"current_password": DEMO_PASSWORD, "password": "Nouveau-secret-77", "conf_password": "Nouveau-secret-77"})
    assert response.status_code == 302
    assert signed_in(client)  # the session that changed it stays
    assert not signed_in(elsewhere)
    api = app.test_client()
    assert api.get("/api/v1/organisation/", headers=bearer(access)).status_code == 401
    assert api.post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 401


def test_a_password_reset_ends_every_session(app, client, demo):
    login(client, demo, CLIENT)
    access, refresh = api_tokens(app.test_client(), demo, CLIENT)
    anonymous = app.test_client()
    anonymous.post("/forgot-password/", data={"email": CLIENT})
    link = re.search(r"https?://[^\s\"<>]+/reset-password/[^\s\"<>]+", latest_mail(demo, CLIENT).body_text).group(0)
    path = link.split("novadesk.test", 1)[-1]
    anonymous.post(path, data={"password": "Nouveau-secret-77", "confirm": "Nouveau-secret-77"})
    assert not signed_in(client)
    assert app.test_client().post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 401
    assert app.test_client().get("/api/v1/organisation/", headers=bearer(access)).status_code == 401


def test_deactivation_ends_web_sessions_and_api_tokens(app, client, demo):
    person = app.test_client()
    login(person, demo, CLIENT)
    copied = session_cookie(person)
    access, refresh = api_tokens(app.test_client(), demo, CLIENT)
    login(client, demo, ADMIN)
    victim = demo.session.query(NovaUser).filter_by(email=CLIENT).one()
    client.post("/users/action_post", data={"action": "deactivate", "rowid": [victim.id]})
    demo.session.expire_all()
    assert demo.session.query(UserSession).filter_by(user_id=victim.id, ended_on=None).count() == 0
    # Even once the account is active again, what was open before stays closed.
    client.post("/users/action_post", data={"action": "reactivate", "rowid": [victim.id]})
    assert not signed_in(browser_with(app, copied))
    assert app.test_client().post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 401
    assert app.test_client().get("/api/v1/organisation/", headers=bearer(access)).status_code == 401


def test_an_admin_ends_all_sessions_of_a_person(app, client, demo):
    person = app.test_client()
    login(person, demo, CLIENT)
    access, refresh = api_tokens(app.test_client(), demo, CLIENT)
    assert app.test_client().post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 200
    login(client, demo, ADMIN)
    victim = demo.session.query(NovaUser).filter_by(email=CLIENT).one()
    page = client.get(f"/users/show/{victim.id}").get_data(as_text=True)
    assert "Terminer toutes les sessions" in page
    done = client.post(f"/users/end-sessions/{victim.id}", follow_redirects=True)
    assert "devra se reconnecter partout" in done.get_data(as_text=True)
    assert not signed_in(person)
    assert app.test_client().get("/api/v1/organisation/", headers=bearer(access)).status_code == 401
    assert app.test_client().post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 401
    assert signed_in(client)  # the admin's own session is untouched
    assert demo.session.query(ActivityLog).filter_by(action="session.ended_all", subject_user_id=victim.id).count() == 1
    # Signing in again works as before.
    login(person, demo, CLIENT)
    assert signed_in(person)


def test_a_person_sees_their_sessions_and_ends_one(app, demo):
    laptop = app.test_client()
    laptop.environ_base.update(HTTP_USER_AGENT=FIREFOX)
    login(laptop, demo, CLIENT)
    phone = app.test_client()
    phone.environ_base.update(HTTP_USER_AGENT=PHONE, REMOTE_ADDR="10.1.2.3")
    login(phone, demo, CLIENT)
    page = laptop.get("/account/security/").get_data(as_text=True)
    assert "Firefox sur Windows" in page and "Chrome sur Android" in page and "10.1.2.3" in page
    assert page.count("cette session") == 1
    mine = demo.session.query(UserSession).filter_by(ip="10.1.2.3").one()
    laptop.post(f"/account/security/sessions/{mine.id}/end")
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert "10.1.2.3" not in laptop.get("/account/security/").get_data(as_text=True)


def test_nobody_ends_someone_elses_session(app, demo):
    victim = app.test_client()
    login(victim, demo, ADMIN)
    record = demo.session.query(UserSession).one()
    intruder = app.test_client()
    login(intruder, demo, CLIENT)
    assert intruder.post(f"/account/security/sessions/{record.id}/end").status_code == 404
    assert intruder.post("/account/security/sessions/99999999999999999999/end").status_code == 404
    assert signed_in(victim)


def test_a_console_socket_of_an_ended_session_is_refused_at_its_next_check(app, demo):
    from app.realtime import console as console_namespace

    http = app.test_client()
    login(http, demo, AGENT)
    socket = contextvars.Context().run(app.extensions["socketio"].test_client, app, namespace="/console", flask_test_client=http)
    assert socket.is_connected("/console")
    assert contextvars.Context().run(socket.emit, "heartbeat", {}, namespace="/console", callback=True) == {"ok": True}
    admin = app.test_client()
    login(admin, demo, ADMIN)
    agent = demo.session.query(NovaUser).filter_by(email=AGENT).one()
    admin.post(f"/users/end-sessions/{agent.id}")
    for state in console_namespace._consoles.values():
        state.checked_at -= console_namespace.RECHECK_SECONDS  # the next check is due
    answer = contextvars.Context().run(socket.emit, "heartbeat", {}, namespace="/console", callback=True)
    assert "error" in answer


@pytest.mark.parametrize("user_agent, expected", [(FIREFOX, "Firefox sur Windows"), (PHONE, "Chrome sur Android"), ("curl/8.5", "Client de l'API")])
def test_devices_are_named_in_words(app, demo, user_agent, expected):
    from app.services import sessions

    record = UserSession(channel="api" if user_agent.startswith("curl") else "web", user_agent=user_agent)
    with app.test_request_context():
        assert sessions.device_label(record) == expected


def test_an_api_sign_out_ends_its_tokens(app, client, demo):
    access, refresh = api_tokens(client, demo, CLIENT)
    assert client.post("/api/v1/security/logout", headers=bearer(access)).status_code == 200
    assert client.get("/api/v1/organisation/", headers=bearer(access)).status_code == 401
    assert client.post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 401
    assert api_token(client, demo, CLIENT)  # signing in again works


def test_sessions_are_personal_data_exported_and_erased(app, demo):
    from app.services import personal_data

    person_browser = app.test_client()
    person_browser.environ_base.update(REMOTE_ADDR="10.9.8.7")
    login(person_browser, demo, CLIENT)
    admin = demo.session.query(NovaUser).filter_by(email=ADMIN).one()
    with app.test_request_context():
        exported = personal_data.export(personal_data.find_person(CLIENT))
        assert exported["holders"]["sessions"]["data"][0]["ip"] == "10.9.8.7"
        personal_data.erase(admin, personal_data.find_person(CLIENT), remove_files=False)
        demo.session.commit()
    assert demo.session.query(UserSession).count() == 0
    assert not signed_in(person_browser)
