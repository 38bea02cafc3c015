"""Demo data: NOVA LEAD, its microfinance partners, a reseller, products and one user of
every role. Loading it twice changes nothing. Every demo account uses DEMO_PASSWORD."""
from flask import current_app

from app.extensions import db
from app.models import NovaUser, OrganisationKind
from app.security import roles
from seeds import factories as make

VENDOR = "NOVA LEAD"

PRODUCTS = [
    ("NOVA-CBS", "NOVA Microfinance", "Système d'information bancaire des IMF : clients, épargne, crédit, comptabilité.", "5.4.2"),
    ("NOVA-MOB", "NOVA Mobile Agent", "Application des agents de terrain : collecte, remboursements, ouverture de comptes.", "2.1.0"),
    ("NOVA-REP", "NOVA Reporting", "États réglementaires et tableaux de bord de la banque centrale.", "3.0.1"),
    ("NOVA-WEB", "NOVA Portail Client", "Banque en ligne pour les membres des IMF.", "1.8.0"),
]

# (name, external id, domains, account manager key, reseller)
PARTNERS = [
    ("Crédit Solidaire du Sahel", "ERP-0101", "credit-solidaire.sn", "commercial1", None),
    ("Fonds Épargne Plus", "ERP-0102", "epargneplus.ci", "commercial1", None),
    ("MicroFinance Horizon", "ERP-0103", "mf-horizon.cm", "commercial1", None),
    ("Caisse Populaire de l'Avenir", "ERP-0104", "cpavenir.bj", "commercial2", None),
    ("Baobab Microcrédit", "ERP-0105", "baobab-mc.tg", "commercial2", None),
]
# Where each partner works: its new users get this time zone.
TIME_ZONES = {
    "Crédit Solidaire du Sahel": "Africa/Dakar",
    "Fonds Épargne Plus": "Africa/Abidjan",
    "MicroFinance Horizon": "Africa/Douala",
    "Caisse Populaire de l'Avenir": "Africa/Porto-Novo",
    "Baobab Microcrédit": "Africa/Lome",
    "Afrique Logiciels Distribution": "Africa/Abidjan",
    "Mutuelle Kaya": "Africa/Ouagadougou",
    "COOPEC Lumière": "Africa/Bamako",
}
RESELLER = ("Afrique Logiciels Distribution", "ERP-0200", "afrilog.ci", "commercial2")
RESOLD = [
    ("Mutuelle Kaya", "ERP-0201", "mutuelle-kaya.bf"),
    ("COOPEC Lumière", "ERP-0202", "coopec-lumiere.ml"),
]

# (key, e-mail, first name, last name, role, organisation, extra fields)
STAFF = [
    ("admin", "admin@novalead.com", "Awa", "Diallo", roles.ADMIN, {}),
    ("supervisor", "superviseur@novalead.com", "Moussa", "Traoré", roles.SUPERVISOR, {}),
    ("agent1", "agent1@novalead.com", "Fatou", "Ndiaye", roles.AGENT, {"support_level": 1}),
    ("agent1b", "agent1b@novalead.com", "Koffi", "Mensah", roles.AGENT, {"support_level": 1}),
    ("agent2", "agent2@novalead.com", "Aïcha", "Koné", roles.AGENT, {"support_level": 2}),
    ("agent3", "agent3@novalead.com", "Jean-Baptiste", "Ouédraogo", roles.AGENT, {"support_level": 3}),
    ("commercial1", "commercial1@novalead.com", "Mariam", "Sow", roles.COMMERCIAL, {}),
    ("commercial2", "commercial2@novalead.com", "Serge", "Kouassi", roles.COMMERCIAL, {}),
]

# (e-mail, first name, last name, role, organisation name)
PARTNER_USERS = [
    ("client@credit-solidaire.sn", "Ibrahima", "Fall", roles.CLIENT, "Crédit Solidaire du Sahel"),
    ("comptable@credit-solidaire.sn", "Khady", "Sarr", roles.CLIENT, "Crédit Solidaire du Sahel"),
    ("client@epargneplus.ci", "Adjoua", "Yao", roles.CLIENT, "Fonds Épargne Plus"),
    ("client@mf-horizon.cm", "Paul", "Ngono", roles.CLIENT, "MicroFinance Horizon"),
    ("client@cpavenir.bj", "Rachidatou", "Adéchi", roles.CLIENT, "Caisse Populaire de l'Avenir"),
    ("client@baobab-mc.tg", "Kodjo", "Agbeko", roles.CLIENT, "Baobab Microcrédit"),
    ("revendeur@afrilog.ci", "Yves", "Bamba", roles.RESELLER, "Afrique Logiciels Distribution"),
    ("client@mutuelle-kaya.bf", "Salif", "Compaoré", roles.CLIENT, "Mutuelle Kaya"),
    ("client@coopec-lumiere.ml", "Oumou", "Keïta", roles.CLIENT, "COOPEC Lumière"),
]


def load_demo(with_tickets=True):
    password = current_app.config["DEMO_PASSWORD"]
    for code, name, description, version in PRODUCTS:
        make.product(code, name, description=description, current_version=version)
    vendor = make.organisation(VENDOR, OrganisationKind.VENDOR, external_id="ERP-0001", email_domains="novalead.com")
    people = {}
    for key, email, first, last, role, extra in STAFF:
        people[key] = make.user(email, first, last, role, password, organisation=vendor, **extra)
    organisations = {}
    for name, external_id, domains, manager, _ in PARTNERS:
        organisations[name] = make.organisation(
            name, external_id=external_id, email_domains=domains, account_manager=people[manager], timezone=TIME_ZONES.get(name)
        )
    name, external_id, domains, manager = RESELLER
    reseller = make.organisation(
        name, OrganisationKind.RESELLER, external_id=external_id, email_domains=domains, account_manager=people[manager],
        timezone=TIME_ZONES.get(name),
    )
    organisations[name] = reseller
    for name, external_id, domains in RESOLD:
        organisations[name] = make.organisation(
            name, external_id=external_id, email_domains=domains, reseller=reseller, account_manager=people["commercial2"],
            timezone=TIME_ZONES.get(name),
        )
    for email, first, last, role, org_name in PARTNER_USERS:
        make.user(email, first, last, role, password, organisation=organisations[org_name])
    _escalation_rule()
    _chat_channel(organisations["Crédit Solidaire du Sahel"])
    db.session.commit()
    from seeds.demo_kb import load_demo_kb
    from seeds.demo_tickets import load_demo_tickets

    kb_note = load_demo_kb()

    tickets_note = load_demo_tickets() if with_tickets else ""
    if with_tickets:  # the tests make the conversations they need
        from seeds.demo_chat import load_demo_chat

        tickets_note += " " + load_demo_chat()
    return f"Demo data ready: {db.session.query(NovaUser).count()} users, {len(organisations) + 1} organisations, {kb_note}. {tickets_note}"


def _chat_channel(organisation):
    """The widget channel of /demo/partner: the page NovaDesk serves in place of the partner's
    software (in demo mode only). Its origins follow the address NovaDesk is served on
    (PUBLIC_URL, else HOST and PORT; DEMO_CHAT_ORIGINS adds others): see chat.channel_origins."""
    from app.models import ChatChannel
    from app.services import chat

    _public, secret = chat.new_channel_keys()
    db.session.add(
        ChatChannel(
            name="Logiciel NOVA LEAD — Crédit Solidaire du Sahel", organisation=organisation, public_key=chat.DEMO_CHANNEL_KEY,
            secret=secret, allowed_origins="", allow_anonymous=True,
        )
    )


def load_demo_if_empty():
    if db.session.query(NovaUser).count() > 0:
        return "Database already has users: demo data not loaded."
    return load_demo()


def _escalation_rule():
    """An example of what the SLA watch can do beyond warning people (T13)."""
    from app.models import EscalationRule, Priority

    name = "Urgente en retard : niveau suivant et commercial prévenu"
    urgent = db.session.query(Priority).filter_by(key="urgent").first()
    if urgent is None or db.session.query(EscalationRule).filter_by(name=name).first() is not None:
        return
    db.session.add(EscalationRule(name=name, stage="breach", priority_id=urgent.id, raise_level=True, notify_commercial=True))
