"""Repeated failed sign-ins slow the attacker, not the account's owner, and never tell which
addresses have an account (U3, U7): throttled per account name and per client address; the
right password from a browser (or, for the API, an address) that signed in before still works
while the suspension holds; existing and unknown addresses get the same answers."""
import pytest

from app.models import ActivityLog
from tests.conftest import DEMO_PASSWORD, code_from_mail, login

CLIENT = "client@credit-solidaire.sn"
GHOST = "personne@credit-solidaire.sn"  # no account has this address
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def browser(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(client):
    return client.get("/", follow_redirects=False).status_code == 200


def web_answer(response):
    text = response.get_data(as_text=True)
    for message in ("Trop de tentatives", "Adresse e-mail ou mot de passe incorrect"):
        if message in text:
            return response.status_code, message
    return response.status_code, "signed in" if response.status_code == 302 else "?"


def api_login(client, email, password):
    return client.post("/api/v1/security/login", json={"username": email, "password": password, "provider": "db"})


def test_an_attacker_cannot_lock_the_owner_out_of_a_browser_they_used_before(app, demo):
    owner = browser(app, OWNER)
    login(owner, demo, CLIENT)
    owner.post("/logout/")
    attacker = browser(app, ATTACKER)
    for _ in range(6):
        attacker.post("/login/", data={"email": CLIENT, "password": "une-supposition-1"})
    # The attacker is stopped, even with the right password…
    assert web_answer(attacker.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD}))[1] == "Trop de tentatives"
    assert not signed_in(attacker)
    # …a new browser of the owner too (nothing tells it apart from the attacker's)…
    assert web_answer(browser(app, OWNER).post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD}))[1] == "Trop de tentatives"
    # …but the owner's own browser signs in as usual, second factor included.
    login(owner, demo, CLIENT)
    assert signed_in(owner)
    # A wrong password from that browser is still a wrong password.
    owner.post("/logout/")
    assert web_answer(owner.post("/login/", data={"email": CLIENT, "password": "une-supposition-1"}))[1] == "Trop de tentatives"


def test_a_forged_device_cookie_is_worth_nothing(app, demo):
    attacker = browser(app, ATTACKER)
    for _ in range(6):
        attacker.post("/login/", data={"email": CLIENT, "password": "une-supposition-1"})
    attacker.set_cookie("nd_device", "eyJ1IjpbMV19.forged.signature", domain="novadesk.test")
    assert web_answer(attacker.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD}))[1] == "Trop de tentatives"


@pytest.mark.parametrize("channel", ["web", "api"])
def test_existing_and_unknown_addresses_get_the_same_answers(app, demo, channel):
    def answers(email, address):
        client = browser(app, address)
        seen = []
        for _ in range(7):
            if channel == "web":
                seen.append(web_answer(client.post("/login/", data={"email": email, "password": "une-supposition-1"})))
            else:
                response = api_login(client, email, "une-supposition-1")
                seen.append((response.status_code, response.json.get("message")))
        return seen

    real = answers(CLIENT, "192.0.2.10")
    unknown = answers(GHOST, "192.0.2.11")
    assert real == unknown
    assert real[0] != real[-1]  # the answer does change: the suspension is said, for both alike
    locked = [entry for entry in real if "Trop de tentatives" in str(entry[1])]
    assert len(locked) == 2


def test_one_address_trying_many_accounts_is_slowed_down(app, demo):
    app.config["LOGIN_ADDRESS_THRESHOLD"] = 4
    try:
        attacker = browser(app, ATTACKER)
        for number in range(4):  # one guess per account: no account reaches its own threshold
            attacker.post("/login/", data={"email": f"personne{number}@exemple.org", "password": "une-supposition-1"})
        refused = attacker.post("/login/", data={"email": "comptable@credit-solidaire.sn", "password": DEMO_PASSWORD})
        assert web_answer(refused)[1] == "Trop de tentatives"
        # The account itself is not suspended: its owner, elsewhere, signs in.
        login(browser(app, OWNER), demo, "comptable@credit-solidaire.sn")
    finally:
        app.config["LOGIN_ADDRESS_THRESHOLD"] = 20


def test_the_api_owner_keeps_signing_in_from_an_address_they_used_before(app, demo):
    owner = browser(app, OWNER)
    first = api_login(owner, CLIENT, DEMO_PASSWORD)
    done = owner.post("/api/v1/security/login", json={"mfa_token": first.json["mfa_token"], "code": code_from_mail(demo, CLIENT)})
    assert done.status_code == 200
    attacker = browser(app, ATTACKER)
    for _ in range(6):
        api_login(attacker, CLIENT, "une-supposition-1")
    blocked = api_login(attacker, CLIENT, DEMO_PASSWORD)
    assert blocked.status_code == 401 and "Trop de tentatives" in blocked.json["message"] and "mfa_token" not in blocked.json
    again = api_login(owner, CLIENT, DEMO_PASSWORD)
    assert again.status_code == 401 and again.json.get("mfa_token")
    done = owner.post("/api/v1/security/login", json={"mfa_token": again.json["mfa_token"], "code": code_from_mail(demo, CLIENT)})
    assert done.status_code == 200 and done.json["access_token"]


def test_failures_are_recorded_without_the_lock_hitting_the_account_row(app, demo):
    attacker = browser(app, ATTACKER)
    for _ in range(5):
        attacker.post("/login/", data={"email": GHOST, "password": "une-supposition-1"})
    actions = [entry.action for entry in demo.session.query(ActivityLog).order_by(ActivityLog.id)]
    assert actions.count("login.failed") == 5 and "login.locked" in actions


def test_unknown_addresses_take_as_long_as_real_ones(app, demo):
    """An unknown address costs one password hash too: the time does not tell which exist."""
    import statistics
    import time

    from app.models import NovaUser
    from app.services import users

    app.config["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:200000"  # hashing dominates, as with scrypt
    try:
        with app.test_request_context():
            users.change_password(demo.session.query(NovaUser).filter_by(email=CLIENT).one(), "Un-secret-lent-42")
            demo.session.commit()

        def median_time(email, address):
            client = browser(app, address)
            spent = []
            for _ in range(4):  # under the threshold: every answer is a plain refusal
                started = time.perf_counter()
                answer = web_answer(client.post("/login/", data={"email": email, "password": "une-supposition-1"}))
                spent.append(time.perf_counter() - started)
                assert answer[1] == "Adresse e-mail ou mot de passe incorrect"
            return statistics.median(spent)

        real, unknown = median_time(CLIENT, "192.0.2.20"), median_time(GHOST, "192.0.2.21")
    finally:
        app.config["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    assert 0.5 < unknown / real < 2, (real, unknown)
