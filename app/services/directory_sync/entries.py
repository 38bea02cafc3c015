"""Entries of organisations and contacts read from JSON or from a file (CSV, spreadsheet)."""
from flask_babel import gettext as _

from app.services import ServiceError, tabular
from app.services.directory_sync.common import _active, _text


def entries_from_json(payload):
    """(organisations, contacts): lists of (row label, values) from the API's JSON."""
    if not isinstance(payload, dict):
        raise ServiceError(_("Le corps doit être un objet JSON avec « organisations » et « contacts »."))
    orgs, contacts = payload.get("organisations") or [], payload.get("contacts") or []
    if not isinstance(orgs, list) or not isinstance(contacts, list):
        raise ServiceError(_("« organisations » et « contacts » doivent être des listes."))
    out_orgs = []
    for i, item in enumerate(orgs):
        item = item if isinstance(item, dict) else {}
        out_orgs.append((f"organisations[{i}]", {
            "external_id": _text(item.get("external_id"), 100), "name": _text(item.get("name"), 200),
            "kind": _text(item.get("kind")), "reseller": _text(item.get("reseller_external_id")),
            "account_manager": _text(item.get("account_manager_email")).lower(),
            "email_domains": _text(item.get("email_domains")), "phone": _text(item.get("phone"), 50),
            "active": _active(item.get("active")),
        }))
    out_contacts = []
    for i, item in enumerate(contacts):
        item = item if isinstance(item, dict) else {}
        out_contacts.append((f"contacts[{i}]", {
            "external_id": _text(item.get("external_id"), 100), "organisation": _text(item.get("organisation_external_id")),
            "first_name": _text(item.get("first_name"), 64), "last_name": _text(item.get("last_name"), 64),
            "email": _text(item.get("email")).lower(), "phone": _text(item.get("phone"), 50),
            "active": _active(item.get("active")),
        }))
    return out_orgs, out_contacts


def entries_from_file(filename, data):
    """(organisations, contacts) from a CSV or XLSX file, one line per contact."""
    rows = tabular.read_table(filename, data)
    orgs, contacts = [], []
    for line, row in rows:
        p = lambda *names: tabular.pick(row, *names)  # noqa: E731
        org_id = p("organisation_id", "id_organisation", "org_external_id", "code_client", "organisation_external_id")
        org = {
            "external_id": org_id[:100], "name": p("organisation", "nom_organisation", "organisation_name", "raison_sociale")[:200],
            "kind": p("type", "kind", "type_organisation"), "reseller": p("revendeur_id", "reseller_id", "reseller_external_id", "id_revendeur"),
            "account_manager": p("responsable_compte", "account_manager", "account_manager_email", "commercial").lower(),
            "email_domains": p("domaines", "email_domains", "domaines_e_mail"), "phone": p("telephone_organisation", "organisation_phone")[:50],
            "active": True,
        }
        orgs.append((line, org))
        contact_values = {
            "external_id": p("contact_id", "id_contact", "contact_external_id")[:100], "organisation": org_id,
            "first_name": p("prenom", "first_name")[:64], "last_name": p("nom", "last_name")[:64],
            "email": p("email", "e_mail", "adresse_e_mail", "courriel").lower(), "phone": p("telephone", "phone", "tel")[:50],
            "active": _active(p("actif", "active")),
        }
        if any(contact_values[k] for k in ("external_id", "first_name", "last_name", "email")):
            contacts.append((line, contact_values))
    return orgs, contacts
