"""Small hardenings (U7): a stored text file is served with its charset said once, on every
path that serves files; codes and one-time links never show in the development mailbox (their
owner reads them in the server's output)."""
import logging
import re

from app.models import Attachment, OutboxMail
from app.services import tickets
from tests.conftest import api_token, login
from tests.ticket_helpers import file_, user

CLIENT = "client@credit-solidaire.sn"


def test_a_text_attachment_says_its_charset_once(app, demo):
    with app.test_request_context():
        tickets.create_ticket(user(CLIENT), title="Journal", body="Voir le fichier", files=[("notes.txt", file_("notes.txt", "Réunion à 10 h\n".encode())[0])])
        demo.session.commit()
    attachment = demo.session.query(Attachment).filter_by(filename="notes.txt").one()
    web = app.test_client()
    login(web, demo, CLIENT)
    token = api_token(app.test_client(), demo, CLIENT)
    for response in (
        web.get(f"/tickets/attachments/{attachment.id}"),
        app.test_client().get(f"/api/v1/attachment/{attachment.id}/download", headers={"Authorization": f"Bearer {token}"}),
    ):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.get_data().decode("utf-8") == "Réunion à 10 h\n"


def test_the_development_mailbox_masks_codes_and_one_time_links(app, demo, caplog):
    caplog.set_level(logging.INFO, logger="app")
    person = app.test_client()
    person.post("/login/", data={"email": CLIENT, "password": "Demo-password-42"})  # a code is mailed
    person.post("/forgot-password/", data={"email": CLIENT})  # a reset link is mailed
    demo.session.expire_all()
    code_mail = demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="two_factor_code").order_by(OutboxMail.id.desc()).first()
    reset_mail = demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="password_reset").order_by(OutboxMail.id.desc()).first()
    code = re.search(r"\b(\d{6})\b", code_mail.subject).group(1)
    link = re.search(r"https?://\S+/reset-password/\S+", reset_mail.body_text).group(0)
    admin = app.test_client()
    login(admin, demo, "admin@novalead.com")
    screens = [admin.get("/dev-mailbox/"), admin.get(f"/dev-mailbox/{code_mail.id}"), admin.get(f"/dev-mailbox/{reset_mail.id}"),
               admin.get(f"/mail/outbox/show/{code_mail.id}"), admin.get(f"/dev-mailbox/?to={CLIENT}")]
    for screen in screens:
        assert screen.status_code == 200
        text = screen.get_data(as_text=True)
        assert code not in text and link not in text and link.rsplit("/", 1)[1] not in text
    assert "confidentiel" in screens[1].get_data(as_text=True)
    # Searching the outbox by subject would spell the code out digit by digit: not offered.
    rows = lambda value: admin.get(f"/mail/outbox/list/?_flt_2_subject={value}").get_data(as_text=True).count("/mail/outbox/show/")  # noqa: E731
    assert rows(code) == rows("no-such-subject") > 0
    # The person (the one running the development server) reads them in its output.
    output = "\n".join(record.getMessage() for record in caplog.records)
    assert code in output and link in output
