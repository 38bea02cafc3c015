"""Health, headers, language, activity log, migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.models import ActivityLog, NovaUser, Organisation
from tests.conftest import login


def test_health_reports_the_database(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_security_headers(client, db):
    response = client.get("/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)  # FAB's scripts carry it
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HttpOnly" in client.get("/login/").headers.get("Set-Cookie", "HttpOnly")


def test_pages_load_nothing_from_outside(client, demo):
    login(client, demo, "admin@novalead.com")
    for path in ["/", "/users/list/", "/organisations/list/", "/roles/matrix/", "/account/security/", "/swagger/v1"]:
        page = client.get(path).get_data(as_text=True)
        assert 'src="http' not in page and 'href="http' not in page.replace('href="http://novadesk.test', ""), path
        assert "googleapis" not in page and "cdn" not in page.lower(), path


def test_french_by_default_english_on_choice(app, client, demo):
    login(client, demo, "client@credit-solidaire.sn")
    assert "Bonjour" in client.get("/").get_data(as_text=True)
    client.post("/novauserinfoeditview/form", data={"first_name": "Ibrahima", "last_name": "Fall", "phone": "", "locale": "en", "timezone": "Africa/Dakar"})
    person = demo.session.query(NovaUser).filter_by(email="client@credit-solidaire.sn").one()
    demo.session.refresh(person)
    assert (person.locale, person.timezone) == ("en", "Africa/Dakar")
    client.post("/logout/")
    client.post("/login/", data={"email": person.email, "password": "Demo-password-42"})
    from tests.conftest import code_from_mail, latest_mail

    assert "sign-in code" in latest_mail(demo, person.email).subject  # mail in the user's language
    client.post("/login/verify", data={"code": code_from_mail(demo, person.email)})
    home = client.get("/").get_data(as_text=True)
    assert "Hello Ibrahima" in home and "Account security" in home
    assert "Adresse e-mail ou mot de passe incorrect" not in home


def test_anonymous_visitor_can_switch_to_english(client, db):
    assert "Se connecter à NovaDesk" in client.get("/login/").get_data(as_text=True)
    client.get("/lang/en")
    page = client.get("/login/").get_data(as_text=True)
    assert "Sign in to NovaDesk" in page and 'lang="en"' in page
    refused = client.post("/login/", data={"email": "x@y.org", "password": "wrong-password-1"}).get_data(as_text=True)
    assert "Incorrect e-mail address or password." in refused


def test_admin_changes_are_in_the_activity_log(app, client, demo):
    login(client, demo, "admin@novalead.com")
    org = demo.session.query(Organisation).filter_by(name="Baobab Microcrédit").one()
    client.post(
        f"/organisations/edit/{org.id}",
        data={"name": "Baobab Microcrédit SA", "kind": "client", "email_domains": "baobab-mc.tg", "active": "y"},
    )
    entry = demo.session.query(ActivityLog).filter_by(action="organisation.updated", target_id=org.id).one()
    assert entry.actor.email == "admin@novalead.com"
    assert entry.details["name"] == ["Baobab Microcrédit", "Baobab Microcrédit SA"]
    client_role = demo.session.query(NovaUser).filter_by(email="client@credit-solidaire.sn").one().roles[0]
    page = client.get(f"/roles/edit/{client_role.id}").get_data(as_text=True)
    assert "Rôles et droits" in page  # a role's rights are set in the permission matrix
    # The log of one person, as admins read it.
    person = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    log_page = client.get(f"/activity/list/?_flt_0_subject_user={person.id}").get_data(as_text=True)
    assert "Awa Diallo s&#39;est connecté(e)" in log_page and "login.success" not in log_page


def test_organisation_rules_apply_on_the_admin_screen(client, demo):
    login(client, demo, "admin@novalead.com")
    page = client.post(
        "/organisations/add",
        data={"name": "Doublon", "kind": "client", "email_domains": "credit-solidaire.sn", "active": "y"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "appartient déjà à une autre organisation" in page
    assert demo.session.query(Organisation).filter_by(name="Doublon").count() == 0


def test_migrations_match_the_models(app, db):
    """Upgrading an empty database to head (done by the fixture) leaves nothing to autogenerate."""
    with db.engine.connect() as connection:
        from app.models.kb import include_in_schema_comparison

        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_in_schema_comparison})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_changing_ones_password_needs_the_current_one(app, client, demo):
    from tests.conftest import DEMO_PASSWORD

    email = "client@credit-solidaire.sn"
    login(client, demo, email)
    wrong = client.post("/resetmypassword/form", data={"current_password": "not-it-123", "password": "Tout-nouveau-42", "conf_password": "Tout-nouveau-42"}, follow_redirects=True)
    assert "Le mot de passe actuel est incorrect" in wrong.get_data(as_text=True)
    weak = client.post("/resetmypassword/form", data={"current_password": DEMO_PASSWORD, "password": "court", "conf_password": "court"}, follow_redirects=True)
    assert "au moins" in weak.get_data(as_text=True)
    client.post("/resetmypassword/form", data={"current_password": DEMO_PASSWORD, "password": "Tout-nouveau-42", "conf_password": "Tout-nouveau-42"})
    login(app.test_client(), demo, email, password="Tout-nouveau-42")
    person = demo.session.query(NovaUser).filter_by(email=email).one()
    entry = demo.session.query(ActivityLog).filter_by(action="user.password_changed", subject_user_id=person.id).one()
    assert entry.actor_id == person.id


def test_admin_sets_a_password_and_edits_a_role_on_the_record(app, client, demo):
    login(client, demo, "admin@novalead.com")
    person = demo.session.query(NovaUser).filter_by(email="client@epargneplus.ci").one()
    client.post(f"/resetpassword/form?pk={person.id}", data={"password": "Pose-par-admin-7", "conf_password": "Pose-par-admin-7"})
    login(app.test_client(), demo, person.email, password="Pose-par-admin-7")
    entry = demo.session.query(ActivityLog).filter_by(action="user.password_changed", subject_user_id=person.id).one()
    assert entry.actor.email == "admin@novalead.com"
    # The permission matrix: take "see organisations" away from the Client role.
    role = person.roles[0]
    client.post("/roles/matrix/save", data={"change": [f"revoke:{role.id}:directory.organisations"]})
    change = demo.session.query(ActivityLog).filter_by(action="role.updated", target_id=role.id).one()
    assert change.actor.email == "admin@novalead.com"
    assert change.details["rights"]["removed"] == ["Voir les organisations"]
    assert "can list on Organisations" in change.details["permissions"]["removed"]
    partner = app.test_client()
    login(partner, demo, person.email, password="Pose-par-admin-7")
    assert partner.get("/organisations/list/").status_code == 403


def test_development_mailbox_closes_when_mail_really_leaves(app, client, demo):
    login(client, demo, "admin@novalead.com")
    assert client.get("/dev-mailbox/").status_code == 200
    app.config["MAIL_SERVER"] = "smtp.example.org"
    try:
        assert client.get("/dev-mailbox/").status_code == 404
    finally:
        app.config["MAIL_SERVER"] = ""
