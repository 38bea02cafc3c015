"""Client directory sync (U6): organisations and contacts follow the ERP/CRM, keyed by the
ERP's external ids. One door for every way in — the JSON API, an uploaded CSV/XLSX file, the
worker's scheduled sources — and always the same two steps:

  plan(entries)  → what each row would do (create, update, unchanged, deactivate, error),
                   computed without writing anything: the dry run the screens show;
  apply(plan)    → writes the rows that are not in error, in the caller's transaction.

Running the same source twice changes nothing the second time. Contacts are never deleted:
a contact the source no longer lists is deactivated, and only by a *full* sync (a source that
lists the whole directory); a row in error still counts as listed, so a typo never locks
anyone out. Contacts get no password: they set one with "forgot password".

The JSON format (API and HTTP sources):
  {"full": false,
   "organisations": [{"external_id", "name", "kind": "client"|"reseller",
                      "reseller_external_id", "account_manager_email", "email_domains",
                      "phone", "active"}],
   "contacts": [{"external_id", "organisation_external_id", "first_name", "last_name",
                 "email", "phone", "active"}]}
The CSV/XLSX format: one line per contact with its organisation (a line without contact
columns describes an organisation alone); columns, in French or English —
  organisation_id | id_organisation, organisation | nom_organisation, type,
  revendeur_id | reseller_id, responsable_compte | account_manager, domaines | email_domains,
  telephone_organisation | organisation_phone, contact_id | id_contact, prenom | first_name,
  nom | last_name, email | e_mail, telephone | phone.
"""
from app.services.directory_sync.applying import apply, record_run, sync
from app.services.directory_sync.common import (
    _EMAIL,
    _KINDS,
    ACTION_LABELS,
    CREATE,
    DEACTIVATE,
    ERROR,
    MAX_ERRORS_KEPT,
    UNCHANGED,
    UPDATE,
    Outcome,
    Plan,
    _active,
    _text,
)
from app.services.directory_sync.entries import entries_from_file, entries_from_json
from app.services.directory_sync.planning import _commercials_by_email, _is_partner, _plan_contact, _plan_organisation, plan

__all__ = [
    "ACTION_LABELS",
    "CREATE",
    "DEACTIVATE",
    "ERROR",
    "MAX_ERRORS_KEPT",
    "Outcome",
    "Plan",
    "UNCHANGED",
    "UPDATE",
    "_EMAIL",
    "_KINDS",
    "_active",
    "_commercials_by_email",
    "_is_partner",
    "_plan_contact",
    "_plan_organisation",
    "_text",
    "apply",
    "entries_from_file",
    "entries_from_json",
    "plan",
    "record_run",
    "sync",
]
