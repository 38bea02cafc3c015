"""Secrets at rest (U7): TOTP secrets and mailbox passwords are stored encrypted with the keys
of NOVADESK_ENCRYPTION_KEYS, read back with any of them, re-encrypted by `rotate-keys`; a
missing key is said plainly, never read as garbage."""
import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.models import Mailbox, NovaUser
from app.security.encryption import SecretUnreadable
from tests.conftest import login
from tests.test_login import _enrol_totp

CLIENT = "client@credit-solidaire.sn"


def _raw(db, table, column, where):
    return db.session.execute(text(f'SELECT "{column}" FROM "{table}" WHERE {where}')).scalar()


def test_secrets_are_stored_encrypted_and_still_work(app, demo):
    secret, _codes = _enrol_totp(app.test_client(), demo, CLIENT)
    admin = app.test_client()
    login(admin, demo, "admin@novalead.com")
    admin.post("/mail/mailboxes/add", data={
        "name": "Support", "host": "127.0.0.1", "port": "993", "security": "ssl", "username": "support", "password": "Mot-de-passe-IMAP", "folder": "INBOX", "active": "y",
    })
    demo.session.expire_all()
    user = demo.session.query(NovaUser).filter_by(email=CLIENT).one()
    stored_secret = _raw(demo, "ab_user", "totp_secret", f"id = {user.id}")
    stored_password = _raw(demo, "mailbox", "password", "name = 'Support'")
    assert stored_secret and secret not in stored_secret and stored_secret.startswith("gAAAA")
    assert stored_password and "Mot-de-passe-IMAP" not in stored_password and stored_password.startswith("gAAAA")
    assert demo.session.query(Mailbox).filter_by(name="Support").one().password == "Mot-de-passe-IMAP"
    # The second factor still works: the secret is read back in clear.
    import time

    client = app.test_client()
    client.post("/login/", data={"email": CLIENT, "password": "Demo-password-42"})
    response = client.post("/login/verify", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]


def test_rotation_with_an_old_and_a_new_key(app, demo, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", [old])
    demo.session.add(Mailbox(name="Ancienne", host="h", port=1, security="none", username="u", password="ancien-secret"))
    demo.session.commit()
    token_before = _raw(demo, "mailbox", "password", "name = 'Ancienne'")
    # New key first: what the old key wrote still reads, and new writes use the new key.
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", [new, old])
    demo.session.expire_all()
    assert demo.session.query(Mailbox).filter_by(name="Ancienne").one().password == "ancien-secret"
    result = app.test_cli_runner().invoke(args=["novadesk", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "mailbox.password 1" in result.output
    token_after = _raw(demo, "mailbox", "password", "name = 'Ancienne'")
    assert token_after != token_before
    assert Fernet(new.encode()).decrypt(token_after.encode()) == b"ancien-secret"
    # The old key may now go.
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", [new])
    demo.session.expire_all()
    assert demo.session.query(Mailbox).filter_by(name="Ancienne").one().password == "ancien-secret"


def test_a_wrong_key_is_a_clear_error(app, demo, monkeypatch):
    right, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", [right])
    demo.session.add(Mailbox(name="Boîte", host="h", port=1, security="none", username="u", password="le-secret"))
    demo.session.commit()
    stored = _raw(demo, "mailbox", "password", "name = 'Boîte'")
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", [wrong])
    demo.session.expire_all()
    with pytest.raises(SecretUnreadable, match="NOVADESK_ENCRYPTION_KEYS"):
        demo.session.query(Mailbox).filter_by(name="Boîte").one()
    demo.session.rollback()
    result = app.test_cli_runner().invoke(args=["novadesk", "rotate-keys"])
    assert result.exit_code != 0
    assert "cannot be decrypted" in result.output
    assert _raw(demo, "mailbox", "password", "name = 'Boîte'") == stored  # nothing rewritten
    monkeypatch.setitem(app.config, "ENCRYPTION_KEYS", ["not-a-key"])
    with pytest.raises(SecretUnreadable, match="Fernet keys"):
        demo.session.query(Mailbox).filter_by(name="Boîte").one()
    demo.session.rollback()


def test_the_migration_encrypts_existing_rows_and_its_downgrade_decrypts(app, demo):
    from flask_migrate import downgrade, upgrade

    demo.session.add(Mailbox(name="Avant", host="h", port=1, security="none", username="u", password="clair"))
    demo.session.commit()
    demo.session.remove()
    downgrade(revision="c8c0aae09af9")
    try:
        assert _raw(demo, "mailbox", "password", "name = 'Avant'") == "clair"  # decrypted by the downgrade
        demo.session.execute(text("UPDATE ab_user SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE email = :e"), {"e": CLIENT})
        demo.session.commit()
    finally:
        demo.session.remove()
        upgrade()
    assert _raw(demo, "mailbox", "password", "name = 'Avant'").startswith("gAAAA")
    assert demo.session.query(Mailbox).filter_by(name="Avant").one().password == "clair"
    assert demo.session.query(NovaUser).filter_by(email=CLIENT).one().totp_secret == "JBSWY3DPEHPK3PXP"
