"""The dashboards' figures kept a few seconds per scope (issue 18): in Redis when REDIS_URL is
set, else in the process. Two people of different organisations never get each other's
figures, a commercial never gets the support's, and a ticket change shows at once."""
import shutil
import socket
import subprocess
import time

import pytest

from app.models import NovaUser, Organisation
from app.services import figure_cache, tickets
from tests.conftest import login, require_or_skip

BAOBAB, SOLIDAIRE = "client@baobab-mc.tg", "client@credit-solidaire.sn"
SUPERVISOR, COMMERCIAL = "superviseur@novalead.com", "commercial1@novalead.com"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["process", "redis"])
def cache(request, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 60)
    if request.param == "process":
        monkeypatch.setitem(app.config, "REDIS_URL", "")
        figure_cache._local.clear()
        yield None
        figure_cache._local.clear()
        return
    server = shutil.which("redis-server")
    if not server:
        require_or_skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)  # waiting for the server to listen, not proving anything
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port}/0")
    app.extensions.pop("novadesk_figure_cache", None)
    import redis

    yield redis.Redis(port=port)
    app.extensions.pop("novadesk_figure_cache", None)
    process.terminate()
    process.wait(10)


def _new(demo, app, organisation_name, title):
    supervisor = demo.session.query(NovaUser).filter_by(email=SUPERVISOR).one()
    organisation = demo.session.query(Organisation).filter_by(name=organisation_name).one()
    with app.test_request_context():
        tickets.create_ticket(supervisor, title=title, body="b", organisation_id=organisation.id)
        demo.session.commit()


def _total(app, db, email):
    client = app.test_client()
    login(client, db, email)
    response = client.get("/dashboard/data")
    assert response.status_code == 200
    data = response.get_json()
    return sum(c["value"] for c in data["counts"]), data["summary"]


def test_each_scope_gets_its_own_figures_and_a_change_shows_at_once(app, db, demo, cache):
    for n in range(3):
        _new(demo, app, "Baobab Microcrédit", f"Baobab {n}")
    _new(demo, app, "Crédit Solidaire du Sahel", "Solidaire")
    own = {email: _total(app, db, email)[0] for email in (BAOBAB, SOLIDAIRE, SUPERVISOR, COMMERCIAL)}  # first reading: counted
    again = {email: _total(app, db, email)[0] for email in (SOLIDAIRE, BAOBAB, COMMERCIAL, SUPERVISOR)}  # second: from the cache
    assert again == own
    assert own[BAOBAB] != own[SOLIDAIRE] and own[SUPERVISOR] > max(own[BAOBAB], own[SOLIDAIRE], own[COMMERCIAL])
    if cache is None:
        assert figure_cache._local
    else:
        assert cache.keys("novadesk:figures:*")
    with app.app_context():
        # the cached answers are those counted for each person's scope, uncached
        for email in (BAOBAB, SOLIDAIRE, COMMERCIAL):
            person = db.session.query(NovaUser).filter_by(email=email).one()
            assert sum(figure_cache_free_counts(person).values()) == own[email]
    _new(demo, app, "Crédit Solidaire du Sahel", "Solidaire encore")
    assert _total(app, db, SOLIDAIRE)[0] == own[SOLIDAIRE] + 1  # a committed change is seen at once
    assert _total(app, db, BAOBAB)[0] == own[BAOBAB]


def figure_cache_free_counts(person):
    from app.services import figures

    return figures.status_counts.uncached(person)


def test_a_cache_that_does_not_answer_only_costs_the_counting(app, db, demo, monkeypatch):
    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 60)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")  # nobody listens there
    app.extensions.pop("novadesk_figure_cache", None)
    _new(demo, app, "Baobab Microcrédit", "Baobab")
    try:
        assert _total(app, db, BAOBAB)[0] == 1
    finally:
        app.extensions.pop("novadesk_figure_cache", None)


def _desk_counts(app, db, email):
    client = app.test_client()
    login(client, db, email)
    response = client.get("/tickets/counts")
    assert response.status_code == 200
    return response.get_json()["counts"]


def test_the_desk_box_counts_are_kept_per_scope_and_mine_per_person(app, db, demo, cache):
    """Issue 18's list counts: the workspace's box counts come from the cache too, yet
    « Mes tickets » is each agent's own, and a committed assignment shows at once."""
    agent, colleague = "agent1@novalead.com", "agent1b@novalead.com"
    _new(demo, app, "Baobab Microcrédit", "Guichet bloqué")
    first = {email: _desk_counts(app, db, email) for email in (agent, colleague)}
    again = {email: _desk_counts(app, db, email) for email in (colleague, agent)}  # from the cache
    assert again == first
    if cache is None:
        assert any(":_box_counts:" in key for key in figure_cache._local)
    else:
        assert cache.keys("novadesk:figures:*:_box_counts:*")
    from app.models import Ticket

    ticket = demo.session.query(Ticket).filter_by(title="Guichet bloqué").one()
    me = demo.session.query(NovaUser).filter_by(email=agent).one()
    with app.test_request_context():
        tickets.assign(me, ticket, [me.id])
        demo.session.commit()
    after = {email: _desk_counts(app, db, email) for email in (agent, colleague)}
    assert after[agent]["mine"] == first[agent]["mine"] + 1  # seen at once, and only by the one it went to
    assert after[colleague]["mine"] == first[colleague]["mine"]
