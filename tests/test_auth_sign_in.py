"""One sign-in step for every door (issue 13, U3, U7): the login page and the API's token
endpoint call the same `auth.sign_in` / `auth.sign_in_second_factor`, so failures counted at
one door lock the other, the second factor is asked the same way, and both open a session."""
from app.models import UserSession
from app.services import auth, sessions
from tests.conftest import DEMO_PASSWORD, api_token, code_from_mail, login
from tests.ticket_helpers import user

CLIENT = "client@credit-solidaire.sn"  # has the e-mail second factor
AGENT = "agent1@novalead.com"
ADDRESS = "203.0.113.80"


def browser(app, address=ADDRESS):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def web_login(client, email, password):
    return client.post("/login/", data={"email": email, "password": password})


def api_login(client, email, password):
    return client.post("/api/v1/security/login", json={"username": email, "password": password, "provider": "db"})


def test_failures_at_both_doors_count_together_and_lock_both(app, demo):
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    client = browser(app)
    for attempt in range(threshold):  # web, API, web, API…: one counter
        if attempt % 2:
            assert api_login(client, CLIENT, "une-supposition").status_code == 401
        else:
            assert "Adresse e-mail ou mot de passe incorrect" in web_login(client, CLIENT, "une-supposition").get_data(as_text=True)
    web = web_login(browser(app, "203.0.113.81"), CLIENT, DEMO_PASSWORD)
    assert web.status_code == 200 and "Trop de tentatives" in web.get_data(as_text=True)
    api = api_login(browser(app, "203.0.113.82"), CLIENT, DEMO_PASSWORD)
    assert api.status_code == 401 and "Trop de tentatives" in api.json["message"] and "mfa_token" not in api.json


def test_wrong_codes_at_one_door_lock_the_other(app, demo):
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    first = api_login(browser(app), CLIENT, DEMO_PASSWORD)
    assert first.status_code == 401 and first.json["second_factor"] == "email"
    for _ in range(threshold):
        wrong = browser(app).post("/api/v1/security/login", json={"mfa_token": first.json["mfa_token"], "code": "000000"})
        assert wrong.status_code == 401
    web = web_login(browser(app, "203.0.113.83"), CLIENT, DEMO_PASSWORD)
    assert "Trop de tentatives" in web.get_data(as_text=True)


def test_the_web_code_page_sends_back_to_the_start_once_locked(app, demo):
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    client = browser(app)
    assert web_login(client, CLIENT, DEMO_PASSWORD).headers["Location"].endswith("/login/verify")
    answers = [client.post("/login/verify", data={"code": "000000"}) for _ in range(threshold)]
    assert answers[0].status_code == 200 and "Code incorrect" in answers[0].get_data(as_text=True)
    assert answers[-1].status_code == 302 and answers[-1].headers["Location"].endswith("/login/")  # start again


def test_the_service_step_asks_the_second_factor_then_opens_a_session(app, demo):
    with app.test_request_context():
        step = auth.sign_in(CLIENT, DEMO_PASSWORD, channel=sessions.API, ip=ADDRESS)
        assert (step.done, step.second_factor, step.session) == (False, auth.METHOD_EMAIL, None)
        demo.session.commit()
        done = auth.sign_in_second_factor(step.user, code_from_mail(demo, CLIENT), channel=sessions.API, ip=ADDRESS)
        demo.session.commit()
        assert done.done and done.session.channel == sessions.API and done.session.user_id == user(CLIENT).id


def test_both_doors_end_in_a_server_side_session_of_their_kind(app, demo):
    login(browser(app), demo, AGENT)
    api_token(browser(app), demo, AGENT)
    demo.session.expire_all()
    channels = sorted(s.channel for s in demo.session.query(UserSession).filter_by(user_id=user(AGENT).id))
    assert channels == [sessions.API, sessions.WEB]
