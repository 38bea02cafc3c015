"""A hostile-input walk over every route of the application (U7): each path parameter and each
known query or form parameter is replaced by hostile values (huge and negative numbers, NUL,
20 kB strings, impossible dates, odd Unicode, Rison junk), as every role and anonymously, by GET
and by POST with a form. The server answers with a refusal or a page, never a server error, and
logs no traceback.

The routes come from `app.url_map`, so a route added later is walked without editing this file.
To keep the walk to about a minute per database, each request carries many hostile values at
once (one per parameter, rotated from one request to the next); the administrator, who reaches
every screen, gets three rounds, each other role one round with a different rotation.
"""
import logging

import pytest

from tests.conftest import login
from tests.test_permission_matrix import EMAILS, ROLES

HUGE = "1" + "0" * 30
NUMBERS = [HUGE, "-1", "2147483648", "9223372036854775808", "0"]
TEXTS = ["\x00", "x" * 20_000, "(:", "\u202e\ufeff\U0001f4a3é", "9999-12-31", "0001-01-01", "-" + HUGE, "1e309", "!(((:"]
DIGITS_ONLY = [HUGE, "2147483648", "9223372036854775808", "0"]  # what an int path converter lets through
# Query and form parameters the screens read (FAB's per-view ones are added per endpoint).
QUERY_NAMES = [
    "page", "psize", "per_page", "page_size", "q", "start", "end", "view", "sort", "dir", "priority", "type",
    "organisation", "assignee", "queue", "overdue", "created_since", "resolved_since", "status", "kind", "pk",
    "for_ticket", "channel", "table", "next", "to", "lang", "download", "s", "anonymous", "_flt_0_id",
    "_flt_0_created_on", "_flt_1_organisation", "_flt_0_name",
]
FORM_NAMES = [
    "body", "title", "status", "priority", "queue", "assignees", "other", "kind", "ticket", "score", "comment",
    "organisation_id", "organisation", "requester", "type", "email", "code", "token", "rowid", "action", "helpful",
    "visibility", "category", "number", "include_others", "format", "confirm_email", "name", "date", "day",
]
SKIPPED_ENDPOINTS = {"static", "appbuilder.static", "socketio_placeholder", "socketio_placeholder_ws"}
# Ending one's own session would turn the rest of a signed-in walk into an anonymous one; the
# anonymous walk covers these.
SIGNED_IN_SKIPS = ("logout",)


def _plain(rule, argument):
    converter = type(rule._converters[argument]).__name__
    return "1" if converter in ("IntegerConverter", "BoundedIdConverter") or argument in ("pk",) else "x"


def _path(rule, values):
    path = rule.rule
    for argument, value in values.items():
        converter = rule._converters[argument]
        pattern = next(part for part in _placeholders(rule) if part[1] == argument)[0]
        path = path.replace(pattern, value)
        del converter
    return path


def _placeholders(rule):
    import re

    return [(match.group(0), match.group(2)) for match in re.finditer(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>", rule.rule)]


def _quote(value):
    from urllib.parse import quote

    return quote(value, safe="")


def _spread(names, pool, round_, offset):
    """One hostile value per parameter, rotated so that every value of the pool is in the
    request somewhere and each parameter meets a different value from one round to the next."""
    return {name: pool[(n + round_ * 5 + offset) % len(pool)] for n, name in enumerate(names)}


def _requests(rule, offset, rounds):
    """Every (method, path, query, form) tried against one route."""
    arguments = [name for _pattern, name in _placeholders(rule)]
    plain = {name: _plain(rule, name) for name in arguments}
    tried = []
    for name in arguments:
        converter = type(rule._converters[name]).__name__
        pool = DIGITS_ONLY if converter in ("IntegerConverter", "BoundedIdConverter") else NUMBERS + TEXTS
        if converter == "PathConverter":
            pool = ["..%2F..%2Fetc%2Fpasswd", "%00"]
        for round_ in range(min(rounds, len(pool))):
            value = pool[(round_ + offset) % len(pool)]
            tried.append(("GET", _path(rule, {**plain, name: _quote(value) if converter != "PathConverter" else value}), None, None))
    base = _path(rule, plain)
    view = rule.endpoint.split(".")[0]
    names = QUERY_NAMES + [f"page_{view}", f"psize_{view}", f"_oc_{view}", f"_od_{view}"]
    for round_ in range(rounds):
        if "GET" in rule.methods:
            tried.append(("GET", base, _spread(names, NUMBERS + TEXTS, round_, offset), None))
        if "POST" in rule.methods:
            tried.append(("POST", base, _spread(names[:8], NUMBERS + TEXTS, round_, offset), _spread(FORM_NAMES, NUMBERS + TEXTS, round_, offset + 1)))
    return tried


def _walk(app, client, role, offset, rounds):
    problems = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if role != "anonymous" and any(word in rule.endpoint for word in SIGNED_IN_SKIPS):
            continue
        for method, path, query, form in _requests(rule, offset, rounds):
            label = f"{role} {method} {path[:100]}"
            try:
                response = client.open(path, method=method, query_string=query, data=form)
            except Exception as error:  # the testing app re-raises what would be a 500
                problems.append(f"{label}: {type(error).__name__}: {str(error)[:160]}")
                continue
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code}")
            response.close()
    return problems


@pytest.fixture
def hostile_world(app, demo):
    """The demo plus one ticket with a file, so that screens have something to show."""
    from app.models import NovaUser, Organisation
    from app.services import tickets
    from tests.ticket_helpers import file_, png_bytes

    agent = demo.session.query(NovaUser).filter_by(email=EMAILS["agent"]).one()
    organisation = demo.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
    with app.test_request_context():
        tickets.create_ticket(agent, title="Écran", body="b", organisation_id=organisation.id, files=[("a.png", file_("a.png", png_bytes())[0])])
        demo.session.commit()
    return demo


@pytest.mark.parametrize("role", ROLES)
def test_no_route_fails_on_hostile_input(app, hostile_world, role, caplog):
    client = app.test_client()
    if role != "anonymous":
        login(client, hostile_world, EMAILS[role])
    caplog.set_level(logging.WARNING)
    problems = _walk(app, client, role, offset=ROLES.index(role) * 2, rounds=3 if role == "admin" else 1)
    tracebacks = [f"{record.name}: {record.getMessage()[:200]}" for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert not problems, f"{len(problems)} server errors:\n" + "\n".join(problems[:150])
    assert not tracebacks, "tracebacks in the log:\n" + "\n".join(tracebacks[:40])
    if role != "anonymous":  # the walk really ran signed in, to the end
        assert client.get("/users/userinfo/").status_code == 200


def test_hostile_numbers_and_dates_get_a_clear_answer(app, hostile_world):
    """What the walk checks broadly, with the answers a person reads."""
    client = app.test_client()
    login(client, hostile_world, EMAILS["admin"])
    assert client.get(f"/tickets/{HUGE}").status_code == 404
    assert client.get(f"/organisations/show/{HUGE}").status_code == 404  # FAB's <pk>
    assert client.get("/organisations/show/-1").status_code == 404
    assert client.get(f"/tickets/?page={HUGE}&organisation={HUGE}").status_code == 200  # ignored, the list is shown
    refused = client.get("/organisations/list/?page_OrganisationView=(:")
    assert refused.status_code == 400 and "Numéro de page hors limites" in refused.get_data(as_text=True)
    page = client.get("/reports/?start=0001-01-01&end=9999-12-31", follow_redirects=True).get_data(as_text=True)
    assert "Choisissez des dates entre 1970 et 2100" in page
    export = client.get("/reports/export.xlsx?start=0001-01-01&end=2026-01-31")
    assert export.status_code == 400 and "Choisissez des dates entre 1970 et 2100" in export.get_data(as_text=True)
