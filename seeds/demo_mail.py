"""A morning's mail for the demo, through the real intake: a new request, a reply threaded by
reference, an unknown person at a client's domain, an unknown sender twice (to attach to a
client), and an out-of-office reply that is kept aside."""
from app.channels import mail_in
from app.extensions import db
from app.models import NovaUser, StatusCategory, Ticket


def _mail(sender, subject, body, key, extra=""):
    return (
        f"From: {sender}\r\nTo: support@novalead.com\r\nSubject: {subject}\r\nMessage-ID: <demo-{key}@demo.novadesk>\r\n"
        f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode("utf-8")


def load_demo_mail():
    ibrahima = db.session.query(NovaUser).filter_by(email="client@credit-solidaire.sn").one()
    ongoing = (
        db.session.query(Ticket)
        .filter(Ticket.requester_id == ibrahima.id, Ticket.status_category.in_(StatusCategory.ACTIVE))
        .order_by(Ticket.id.desc())
        .first()
    )
    messages = [
        _mail("Paul Ngono <client@mf-horizon.cm>", "=?utf-8?q?Export_comptable_bloqu=C3=A9_=C3=A0_la_cl=C3=B4ture?=",
              "Bonjour,\r\n\r\nL'export comptable vers Sage s'arrête à 80 % depuis la clôture de novembre.\r\nLe fichier journal est joint à notre précédent ticket.\r\n\r\nCordialement,\r\nPaul Ngono", "1"),
        _mail("Caissier Agence Lomé <caisse.lome@baobab-mc.tg>", "Ticket de caisse illisible",
              "Bonjour, les tickets de caisse sortent avec des caractères illisibles depuis ce matin.", "3"),
        _mail("Direction <direction@nouvelle-imf.example>", "Demande de démonstration",
              "Bonjour, nous sommes une nouvelle IMF à Niamey et souhaitons une démonstration de NOVA LEAD.", "4"),
        _mail("Direction <direction@nouvelle-imf.example>", "Tarifs des modules",
              "Pouvez-vous aussi nous envoyer les tarifs des modules épargne et crédit ?", "5"),
        _mail("Adjoua Yao <client@epargneplus.ci>", "=?utf-8?q?R=C3=A9ponse_automatique?=",
              "Je suis absente jusqu'au 7 décembre.", "6", extra="Auto-Submitted: auto-replied\r\n"),
    ]
    if ongoing is not None:
        messages.insert(1, _mail("Ibrahima Fall <client@credit-solidaire.sn>", f"Re: [{ongoing.number}] {ongoing.title}",
                                 "Bonjour,\r\n\r\nLe problème s'est reproduit ce matin à l'agence de Thiès.\r\n\r\nLe lun. 23 nov. 2026, Support NOVA LEAD a écrit :\r\n> ##- Répondez au-dessus de cette ligne -##", "2"))
    for raw in messages:
        mail_in.ingest(raw, "demo")
    return f"Demo mail received: {len(messages)}."
