"""The plan: what synchronising the entries would create, update or deactivate."""
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import NovaUser, Organisation, OrganisationKind
from app.security import roles as role_catalogue
from app.services import tabular
from app.services.directory_sync.common import _EMAIL, _KINDS, CREATE, DEACTIVATE, ERROR, UNCHANGED, UPDATE, Outcome, Plan

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
