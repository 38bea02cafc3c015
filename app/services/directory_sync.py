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
import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import NovaUser, Organisation, OrganisationKind, SyncRun
from app.security import roles as role_catalogue
from app.services import ServiceError, audit, clock, tabular, users

CREATE, UPDATE, UNCHANGED, DEACTIVATE, ERROR = "create", "update", "unchanged", "deactivate", "error"
ACTION_LABELS = {CREATE: "Création", UPDATE: "Mise à jour", UNCHANGED: "Inchangé", DEACTIVATE: "Désactivation", ERROR: "Erreur"}
_KINDS = {
    "client": OrganisationKind.CLIENT, "client_partenaire": OrganisationKind.CLIENT, "partenaire": OrganisationKind.CLIENT,
    "reseller": OrganisationKind.RESELLER, "revendeur": OrganisationKind.RESELLER,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ERRORS_KEPT = 200


@dataclass
class Outcome:
    row: object  # line number in a file, or "organisations[3]" in JSON
    kind: str  # organisation, contact
    external_id: str
    label: str
    action: str
    changes: dict = field(default_factory=dict)
    error: str = ""
    values: dict = field(default_factory=dict, repr=False)
    target: object = field(default=None, repr=False)

    @property
    def action_label(self):
        return ACTION_LABELS[self.action]


@dataclass
class Plan:
    outcomes: list
    full: bool

    def count(self, action, kind=None):
        return sum(1 for o in self.outcomes if o.action == action and (kind is None or o.kind == kind))

    @property
    def summary(self):
        return {a: self.count(a) for a in (CREATE, UPDATE, UNCHANGED, DEACTIVATE, ERROR)}

    @property
    def errors(self):
        return [o for o in self.outcomes if o.action == ERROR]


# --- reading the sources ------------------------------------------------------------------


def _text(value, maximum=None):
    if value is None:
        return ""
    value = str(value).strip()
    return value[:maximum] if maximum else value


def _active(value):
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"0", "false", "non", "no", "inactif", "inactive", "n"}


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


# --- the plan -------------------------------------------------------------------------------


def plan(orgs, contacts, full=False):
    """What the sync would do, row by row, without writing anything."""
    outcomes = []
    known_orgs = {o.external_id: o for o in db.session.query(Organisation).filter(Organisation.external_id.isnot(None))}
    org_names = dict(db.session.query(func.lower(Organisation.name), Organisation.external_id))
    commercials = _commercials_by_email()
    planned_orgs = {}  # external id → (outcome, values)
    for row, values in orgs:
        outcome = _plan_organisation(row, values, known_orgs, org_names, planned_orgs, commercials)
        if outcome is not None:
            outcomes.append(outcome)
    users_by_external = {}
    users_by_email = {}
    for user in db.session.query(NovaUser).options(selectinload(NovaUser.roles)):
        if user.external_id:
            users_by_external[user.external_id] = user
        users_by_email[(user.email or "").lower()] = user
    seen_contacts, seen_emails = {}, {}
    for row, values in contacts:
        outcomes.append(_plan_contact(row, values, known_orgs, planned_orgs, users_by_external, users_by_email, seen_contacts, seen_emails))
    if full:
        listed = set(seen_contacts)
        for external_id, user in sorted(users_by_external.items()):
            if external_id not in listed and user.active and _is_partner(user):
                outcomes.append(Outcome("—", "contact", external_id, f"{user.full_name} <{user.email}>", DEACTIVATE, target=user))
    return Plan(outcomes, full)


def _commercials_by_email():
    role = current_app.appbuilder.sm.find_role(role_catalogue.COMMERCIAL)
    users = db.session.query(NovaUser).filter(NovaUser.active.is_(True), NovaUser.roles.contains(role)).all() if role else []
    return {u.email.lower(): u for u in users}


def _is_partner(user):
    return bool({role_catalogue.CLIENT, role_catalogue.RESELLER} & user.role_names)


def _plan_organisation(row, values, known_orgs, org_names, planned_orgs, commercials):
    external_id = values["external_id"]
    label = values["name"] or external_id
    if not external_id:
        if not values["name"]:
            return None  # a contact line with no organisation columns: the contact says why
        return Outcome(row, "organisation", "", label, ERROR, error=_("Identifiant externe de l'organisation manquant."))
    if external_id in planned_orgs:
        first, first_values = planned_orgs[external_id]
        if first_values is None:
            return None  # already reported in error on its first line
        same = all(not values[k] or values[k] == first_values[k] for k in ("name", "kind", "reseller", "account_manager", "email_domains", "phone"))
        if same:
            return None  # the same organisation on each of its contacts' lines
        return Outcome(row, "organisation", external_id, label, ERROR, error=_("L'organisation %(id)s apparaît déjà ligne %(row)s avec d'autres valeurs.", id=external_id, row=first.row))
    existing = known_orgs.get(external_id)
    error = None
    kind = _KINDS.get(tabular.normalise_header(values["kind"])) if values["kind"] else (existing.kind if existing else OrganisationKind.CLIENT)
    if kind is None:
        error = _("Type d'organisation inconnu : « %(kind)s » (client ou revendeur).", kind=values["kind"])
    elif existing is not None and existing.kind == OrganisationKind.VENDOR:
        error = _("L'organisation de l'éditeur ne se synchronise pas.")
    elif existing is None and not values["name"]:
        error = _("Nom de l'organisation manquant.")
    elif values["name"] and org_names.get(values["name"].lower(), external_id) != external_id:
        error = _("Une autre organisation porte déjà le nom « %(name)s ».", name=values["name"])
    reseller = None
    if error is None and values["reseller"]:
        reseller_planned = planned_orgs.get(values["reseller"])
        reseller = known_orgs.get(values["reseller"])
        reseller_kind = reseller_planned[1]["kind_resolved"] if reseller_planned else (reseller.kind if reseller else None)
        if reseller_kind is None:
            error = _("Revendeur inconnu : %(id)s.", id=values["reseller"])
        elif reseller_kind != OrganisationKind.RESELLER:
            error = _("%(id)s n'est pas un revendeur.", id=values["reseller"])
        elif values["reseller"] == external_id:
            error = _("Une organisation ne peut pas être son propre revendeur.")
    manager = None
    if error is None and values["account_manager"]:
        manager = commercials.get(values["account_manager"])
        if manager is None:
            error = _("Responsable de compte inconnu (ou sans le rôle Commercial) : %(email)s.", email=values["account_manager"])
    if error:
        outcome = Outcome(row, "organisation", external_id, label, ERROR, error=error)
        planned_orgs[external_id] = (outcome, None)
        return outcome
    values = dict(values, kind_resolved=kind)
    wanted = {"kind": kind, "active": True}
    if values["name"]:
        wanted["name"] = values["name"]
    if values["reseller"]:
        wanted["reseller_external_id"] = values["reseller"]
    if manager is not None:
        wanted["account_manager_id"] = manager.id
    if values["email_domains"]:
        wanted["email_domains"] = " ".join(sorted({d.strip().lower().lstrip("@") for d in values["email_domains"].replace(",", " ").replace(";", " ").split()}))
    if values["phone"]:
        wanted["phone"] = values["phone"]
    if existing is None:
        outcome = Outcome(row, "organisation", external_id, label, CREATE, changes=wanted, values=wanted)
        org_names[values["name"].lower()] = external_id
    else:
        current = {
            "name": existing.name, "kind": existing.kind, "active": existing.active, "account_manager_id": existing.account_manager_id,
            "reseller_external_id": existing.reseller.external_id if existing.reseller else None,
            "email_domains": existing.email_domains or "", "phone": existing.phone,
        }
        changes = {k: [current[k], v] for k, v in wanted.items() if current.get(k) != v}
        outcome = Outcome(row, "organisation", external_id, label, UPDATE if changes else UNCHANGED, changes=changes, values=wanted, target=existing)
    planned_orgs[external_id] = (outcome, values)
    return outcome


def _plan_contact(row, values, known_orgs, planned_orgs, users_by_external, users_by_email, seen_contacts, seen_emails):
    external_id, email = values["external_id"], values["email"]
    label = f"{values['first_name']} {values['last_name']}".strip() + (f" <{email}>" if email else "")

    def refuse(message):
        return Outcome(row, "contact", external_id, label, ERROR, error=message)

    if not external_id:
        return refuse(_("Identifiant externe du contact manquant."))
    if external_id in seen_contacts:
        return refuse(_("Contact %(id)s en double : déjà ligne %(row)s.", id=external_id, row=seen_contacts[external_id]))
    seen_contacts[external_id] = row
    if not email or not _EMAIL.match(email):
        return refuse(_("Adresse e-mail manquante ou invalide : « %(email)s ».", email=email))
    if email in seen_emails:
        return refuse(_("Adresse %(email)s en double : déjà ligne %(row)s.", email=email, row=seen_emails[email]))
    seen_emails[email] = row
    if not values["last_name"] and not values["first_name"]:
        return refuse(_("Nom du contact manquant."))
    org_ref = values["organisation"]
    if not org_ref:
        return refuse(_("Organisation du contact manquante."))
    if org_ref in planned_orgs:
        org_outcome, org_values = planned_orgs[org_ref]
        if org_values is None:
            return refuse(_("Organisation %(id)s en erreur (ligne %(row)s).", id=org_ref, row=org_outcome.row))
        org_kind = org_values["kind_resolved"]
    elif org_ref in known_orgs:
        org_outcome, org_kind = None, known_orgs[org_ref].kind
    else:
        return refuse(_("Organisation inconnue : %(id)s.", id=org_ref))
    if org_kind == OrganisationKind.VENDOR:
        return refuse(_("Les comptes de l'éditeur ne se synchronisent pas."))
    existing = users_by_external.get(external_id)
    by_email = users_by_email.get(email)
    if by_email is not None and by_email is not existing:
        if existing is not None or (by_email.external_id and by_email.external_id != external_id):
            return refuse(_("L'adresse %(email)s appartient déjà à un autre compte.", email=email))
        if not _is_partner(by_email):
            return refuse(_("L'adresse %(email)s appartient à un compte de l'éditeur.", email=email))
        existing = by_email  # an account made by hand before the sync: it is adopted
    if existing is not None and not _is_partner(existing):
        return refuse(_("Le contact %(id)s est un compte de l'éditeur.", id=external_id))
    wanted = {
        "first_name": values["first_name"], "last_name": values["last_name"], "email": email,
        "phone": values["phone"] or None, "organisation_external_id": org_ref, "active": values["active"],
        "role": role_catalogue.RESELLER if org_kind == OrganisationKind.RESELLER else role_catalogue.CLIENT,
    }
    if existing is None:
        return Outcome(row, "contact", external_id, label, CREATE, changes=wanted, values=wanted, target=org_outcome)
    current_org = existing.organisation
    current = {
        "first_name": existing.first_name, "last_name": existing.last_name, "email": existing.email, "phone": existing.phone,
        "organisation_external_id": current_org.external_id if current_org else None, "active": existing.active,
        "role": role_catalogue.RESELLER if role_catalogue.RESELLER in existing.role_names else role_catalogue.CLIENT,
    }
    changes = {k: [current[k], v] for k, v in wanted.items() if current[k] != v}
    if existing.external_id != external_id:
        changes["external_id"] = [existing.external_id, external_id]
    return Outcome(row, "contact", external_id, label, UPDATE if changes else UNCHANGED, changes=changes, values=wanted, target=existing)


# --- applying it ----------------------------------------------------------------------------


def apply(actor, the_plan):
    """Write the plan's rows that are not in error; flushes, the caller commits."""
    orgs = {o.external_id: o for o in db.session.query(Organisation).filter(Organisation.external_id.isnot(None))}
    pending_resellers = []
    for outcome in the_plan.outcomes:
        if outcome.kind != "organisation" or outcome.action not in (CREATE, UPDATE):
            continue
        values = outcome.values
        org = outcome.target or Organisation(external_id=outcome.external_id, email_domains="")
        for key in ("name", "kind", "active", "account_manager_id", "email_domains", "phone"):
            if key in values:
                setattr(org, key, values[key])
        if outcome.target is None:
            db.session.add(org)
            orgs[outcome.external_id] = org
        if "reseller_external_id" in values:
            pending_resellers.append((org, values["reseller_external_id"]))
    for org, reseller_id in pending_resellers:
        org.reseller = orgs[reseller_id]
    db.session.flush()
    sm = current_app.appbuilder.sm
    roles = {name: sm.find_role(name) for name in (role_catalogue.CLIENT, role_catalogue.RESELLER)}
    for outcome in the_plan.outcomes:
        if outcome.kind != "contact" or outcome.action == ERROR or outcome.action == UNCHANGED:
            continue
        if outcome.action == DEACTIVATE:
            outcome.target.active = False
            continue
        values = outcome.values
        user = outcome.target if isinstance(outcome.target, NovaUser) else None
        if user is None:
            user = NovaUser(username=values["email"], password=None, timezone=users.timezone_for(orgs[values["organisation_external_id"]]), roles=[roles[values["role"]]])
            db.session.add(user)
        elif values["role"] not in user.role_names:
            other = role_catalogue.CLIENT if values["role"] == role_catalogue.RESELLER else role_catalogue.RESELLER
            user.roles = [r for r in user.roles if r.name != other] + [roles[values["role"]]]
        user.external_id = outcome.external_id
        user.first_name, user.last_name = values["first_name"], values["last_name"]
        user.email = user.username = values["email"]
        user.phone = values["phone"]
        user.organisation = orgs[values["organisation_external_id"]]
        user.active = values["active"]
    db.session.flush()
    return the_plan


def sync(actor, orgs, contacts, *, full=False, origin, source_label, source=None, dry_run=False):
    """Plan, then (unless a dry run) apply and log the run. Returns (plan, run or None)."""
    the_plan = plan(orgs, contacts, full=full)
    if dry_run:
        return the_plan, None
    run = SyncRun(kind="directory", origin=origin, source=source, source_label=source_label[:500], actor_id=getattr(actor, "id", None), started_on=clock.now())
    apply(actor, the_plan)
    record_run(run, the_plan)
    db.session.add(run)
    audit.record(db.session, "directory.synced", actor=actor, details={"source": source_label[:200], **the_plan.summary})
    db.session.flush()
    return the_plan, run


def record_run(run, the_plan):
    summary = the_plan.summary
    run.created, run.updated, run.unchanged = summary[CREATE], summary[UPDATE], summary[UNCHANGED]
    run.deactivated, run.errors = summary[DEACTIVATE], summary[ERROR]
    run.error_details = [{"row": str(o.row), "id": o.external_id, "message": o.error} for o in the_plan.errors[:MAX_ERRORS_KEPT]] or None
    run.finished_on = clock.now()
