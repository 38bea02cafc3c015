"""Shared fixtures: the application on each database, demo data, signed-in clients.

The suite runs on SQLite always and on PostgreSQL when TEST_POSTGRES_URL names a database
it may empty. A missing PostgreSQL is a visible skip, and a failure under REQUIRE_ALL=1 (CI).
"""
import contextvars
import os
import re
import tempfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

TEST_CONFIG = {
    "TESTING": True,
    "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing keeps the suite quick
    "WTF_CSRF_ENABLED": False,  # switched on by the tests that check CSRF
    "RATELIMIT_ENABLED": True,
    "SERVER_NAME": "novadesk.test",
    "MAIL_SERVER": "",
    "MAIL_SUPPRESS_SEND": False,
    "DEMO_PASSWORD": "Demo-password-42",
    "LOGIN_LOCKOUT_THRESHOLD": 5,
    "CHAT_BUSINESS_HOURS_ONLY": False,  # the tests run at any hour; one test closes the support
    "DEMO_MODE": True,  # the demo channel is the tests' widget channel; tests/test_demo_mode.py turns it off
    "HOST": "127.0.0.1",  # the served address the demo channel follows, whatever the environment says
    "PORT": 5000,
    "FIGURES_CACHE_SECONDS": 0,  # tests/test_figure_cache.py turns the dashboards' cache on
}
DEMO_PASSWORD = TEST_CONFIG["DEMO_PASSWORD"]
# Tables that hold permissions and roles survive between tests; everything else is emptied.
_KEPT_TABLES = {"alembic_version", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role", "role_policy"}


def require_or_skip(reason):
    if os.environ.get("REQUIRE_ALL") == "1":
        pytest.fail(f"REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


def _database_urls():
    handle, path = tempfile.mkstemp(suffix=".db", prefix="novadesk-test-")
    os.close(handle)
    from config import normalise_database_url

    postgres = os.environ.get("TEST_POSTGRES_URL")
    return {"sqlite": f"sqlite:///{path}", "postgresql": normalise_database_url(postgres) if postgres else None}


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in a real server: the test's own app context
    (and its `g`, its session) never leaks into the request, nor the other way round."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


_URLS = _database_urls()
_APPS = {}


def build_app(backend, **overrides):
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import sync_permissions_and_roles

    url = _URLS[backend]
    if not url:
        require_or_skip("PostgreSQL tests need TEST_POSTGRES_URL (e.g. postgresql://novadesk:novadesk@localhost/novadesk_test)")
    config = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=url, FAB_UPDATE_PERMS=False, **overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        from app.extensions import db

        _reset_schema(db, backend)
        upgrade()
        sync_permissions_and_roles()
    return app


def _reset_schema(db, backend):
    """Start every run from an empty database, as a fresh install would."""
    if backend == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session", autouse=True)
def every_event_matches_its_schema():
    """Zulip's check_events, everywhere: each event any test makes a service publish is
    checked against its schema in app/services/events.py as it is dispatched. A payload that
    drifts from its schema fails the test (or the request) that sent it."""
    from typeguard import check_type

    from app.services import events

    def check(event):
        check_type(event.payload, events.KINDS[event.kind].schema)
        for room in event.rooms:
            check_type(room, tuple[str, str])

    undo = events.watch(check)
    yield
    undo()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request):
    backend = request.param
    if backend not in _APPS:
        _APPS[backend] = build_app(backend)
    return _APPS[backend]


def _empty_data_tables(db):
    existing = set(inspect(db.engine).get_table_names())
    names = [t.name for t in db.metadata.tables.values() if t.name not in _KEPT_TABLES and t.name in existing]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in names) + " RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(db.metadata.tables[name].delete())


# What a fresh database holds (roles, permissions, the desk's reference data), and what the demo
# adds, are built once per database and restored before each test: far quicker than building
# them again, and the same rows (same ids) every time. A test that changed the roles or the
# two-factor policies gets them rebuilt for the next one.
_KEPT_CHECKED = ("ab_role", "ab_permission_view_role", "role_policy")
_BASE = {}
_DEMO = {}


def _kept_state(database):
    with database.engine.connect() as conn:
        return {name: sorted(tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))) for name in _KEPT_CHECKED}


def _data_tables(database):
    existing = set(inspect(database.engine).get_table_names())
    return [t for t in database.metadata.sorted_tables if t.name not in _KEPT_TABLES and t.name in existing]


def snapshot_data(database):
    with database.engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in _data_tables(database)}
    return {name: sorted(found, key=lambda r: r.get("id") or 0) for name, found in rows.items() if found}


def restore_data(database, snapshot):
    """Empty the data tables and put the snapshot back. Foreign keys that point forward in the
    insertion order (organisations and their account managers, users and their organisation,
    self-references) are filled in a second pass, once every row exists."""
    from sqlalchemy import bindparam

    _empty_data_tables(database)
    tables = _data_tables(database)
    position = {t.name: n for n, t in enumerate(tables)}
    later = []
    with database.engine.begin() as conn:
        for table in tables:
            rows = snapshot.get(table.name)
            if not rows:
                continue
            forward = [
                fk.parent.name for fk in table.foreign_keys
                if position.get(fk.column.table.name, -1) >= position[table.name] and fk.parent.nullable
            ]
            if forward and "id" in table.c:
                conn.execute(table.insert(), [{**row, **{name: None for name in forward}} for row in rows])
                for name in forward:
                    values = [{"_id": row["id"], "_value": row[name]} for row in rows if row.get(name) is not None]
                    if values:
                        later.append((table.update().where(table.c.id == bindparam("_id")).values({name: bindparam("_value")}), values))
            else:
                conn.execute(table.insert(), rows)
        for statement, values in later:
            conn.execute(statement, values)
        if database.engine.dialect.name == "postgresql":
            for table in tables:
                if snapshot.get(table.name) and "id" in table.c:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), (SELECT max(id) FROM \"{table.name}\"))"
                        f" WHERE pg_get_serial_sequence('\"{table.name}\"', 'id') IS NOT NULL"
                    ))


@pytest.fixture
def db(app):
    from app.cli import sync_permissions_and_roles
    from app.extensions import db as database
    from app.models import RolePolicy
    from app.security.roles import TWO_FACTOR_REQUIRED_BY_DEFAULT

    ctx = app.app_context()
    ctx.push()
    backend = database.engine.dialect.name
    base = _BASE.get(backend)
    if base is not None and _kept_state(database) == base[0]:
        restore_data(database, base[1])
    else:
        _empty_data_tables(database)
        sync_permissions_and_roles(reset_roles=True)
        for policy in database.session.query(RolePolicy).all():
            policy.two_factor_required = policy.role.name in TWO_FACTOR_REQUIRED_BY_DEFAULT
        database.session.commit()
        _BASE[backend] = (_kept_state(database), snapshot_data(database))
        _DEMO.pop(backend, None)  # taken over other roles: take it again
    app.appbuilder.sm.limiter.reset()
    yield database
    database.session.rollback()
    database.session.remove()
    ctx.pop()


@pytest.fixture
def demo(db):
    from seeds.demo import load_demo

    backend = db.engine.dialect.name
    if backend in _DEMO:
        restore_data(db, _DEMO[backend])
    else:
        load_demo(with_tickets=False)  # tests make the tickets they need
        db.session.commit()
        _DEMO[backend] = snapshot_data(db)
    return db


@pytest.fixture
def client(app, db):
    return app.test_client()


def latest_mail(db, recipient):
    from app.models import OutboxMail

    db.session.expire_all()
    return db.session.query(OutboxMail).filter_by(recipient=recipient).order_by(OutboxMail.id.desc()).first()


def code_from_mail(db, recipient):
    mail = latest_mail(db, recipient)
    assert mail is not None, f"no mail for {recipient}"
    return re.search(r"\b(\d{6})\b", mail.subject).group(1)


def login(client, db, email, password=DEMO_PASSWORD, follow=True):
    """Sign in through the real pages, reading the e-mailed code like a person would."""
    response = client.post("/login/", data={"email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/login/verify"):
        response = client.post("/login/verify", data={"code": code_from_mail(db, email)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert "/login" not in response.headers["Location"], "login did not complete"
    return response


def api_token(client, db, email, password=DEMO_PASSWORD):
    response = client.post("/api/v1/security/login", json={"username": email, "password": password, "provider": "db"})
    if response.status_code == 401 and response.json.get("mfa_token"):
        response = client.post(
            "/api/v1/security/login", json={"mfa_token": response.json["mfa_token"], "code": code_from_mail(db, email)}
        )
    assert response.status_code == 200, response.json
    return response.json["access_token"]
