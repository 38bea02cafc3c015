"""Planning an import: what each ticket of an export would become, checked and mapped,
without writing anything (the preview shows it; `apply` writes it)."""
import base64
import binascii
import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    Channel,
    NovaUser,
    Organisation,
    OrganisationKind,
    Priority,
    Product,
    RequestType,
    StatusCategory,
    Ticket,
    TicketStatus,
)
from app.services import tabular, tickets, uploads

CREATE, UNCHANGED, ERROR = "create", "unchanged", "error"
ACTION_LABELS = {CREATE: "Création", UNCHANGED: "Déjà importé", ERROR: "Erreur"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


# --- the plan -------------------------------------------------------------------------------


@dataclass
class Outcome:
    row: object
    reference: str
    title: str
    action: str
    error: str = ""
    notes: list = field(default_factory=list)
    values: dict = field(default_factory=dict, repr=False)

    @property
    def action_label(self):
        return ACTION_LABELS[self.action]


@dataclass
class Plan:
    outcomes: list
    label: str

    @property
    def summary(self):
        counts = {a: 0 for a in (CREATE, UNCHANGED, ERROR)}
        for o in self.outcomes:
            counts[o.action] += 1
        counts["update"] = 0
        return counts

    @property
    def errors(self):
        return [o for o in self.outcomes if o.action == ERROR]

    @property
    def messages_to_create(self):
        return sum(len(o.values.get("messages", ())) for o in self.outcomes if o.action == CREATE)


class _Lookups:
    def __init__(self):
        zone = current_app.config["DEFAULT_TIMEZONE"]
        self.zone = ZoneInfo(zone)
        self.orgs_by_external = {}
        self.orgs_by_name = {}
        self.orgs_by_domain = {}
        for org in db.session.query(Organisation):
            if org.external_id:
                self.orgs_by_external[org.external_id] = org
            self.orgs_by_name[org.name.lower()] = org
            if org.active and org.kind in (OrganisationKind.CLIENT, OrganisationKind.RESELLER):
                for domain in org.domain_list:
                    self.orgs_by_domain.setdefault(domain, org)
        self.vendor_ids = {org.id for org in self.orgs_by_name.values() if org.kind == OrganisationKind.VENDOR}
        self.users = {email.lower(): (uid, org_id) for uid, email, org_id in db.session.query(NovaUser.id, NovaUser.email, NovaUser.organisation_id)}
        self.statuses = {s.name.lower(): s for s in db.session.query(TicketStatus)}
        self.first_status = {}
        for status in db.session.query(TicketStatus).filter(TicketStatus.active.is_(True)).order_by(TicketStatus.position, TicketStatus.id):
            self.first_status.setdefault(status.category, status)
        self.types = {t.name.lower(): t for t in db.session.query(RequestType)}
        self.priorities = {}
        for priority in db.session.query(Priority):
            self.priorities[priority.key.lower()] = priority
            self.priorities[priority.name.lower()] = priority
        self.normal = self.priorities.get("normal") or db.session.query(Priority).order_by(Priority.position).first()
        self.products = {}
        for product in db.session.query(Product):
            self.products[product.code.lower()] = product
            self.products[product.name.lower()] = product
        self.imported = {ref for (ref,) in db.session.query(Ticket.external_reference).filter(Ticket.external_reference.isnot(None))}


def parse_date(value, zone):
    if value in (None, ""):
        return None
    value = str(value).strip()
    match = _FR_DATE.match(value)
    if match:
        d, m, y, hh, mm, ss = match.groups()
        moment = datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _flag(value):
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "oui", "yes", "o", "y", "interne", "internal", "note"}


def plan(export):
    """What the import would do, ticket by ticket, without writing anything."""
    lookups = _Lookups()
    seen = {}
    outcomes = []
    for row, item in export.tickets:
        outcomes.append(_plan_ticket(row, item, export, lookups, seen))
    return Plan(outcomes, export.label)


def _plan_ticket(row, item, export, lk, seen):
    reference = str(item.get("reference") or "").strip()[:100]
    title = str(item.get("title") or "").strip()
    notes = []

    def refuse(message):
        return Outcome(row, reference, title, ERROR, error=message)

    if not reference:
        return refuse(_("Numéro d'origine (reference) manquant."))
    if reference in seen:
        return refuse(_("Ticket %(ref)s en double : déjà %(row)s.", ref=reference, row=seen[reference]))
    seen[reference] = row
    if reference in lk.imported:
        return Outcome(row, reference, title, UNCHANGED)
    if not title:
        return refuse(_("Titre manquant."))
    try:
        created_on = parse_date(item.get("created_on"), lk.zone)
        resolved_on = parse_date(item.get("resolved_on"), lk.zone)
        closed_on = parse_date(item.get("closed_on"), lk.zone)
    except ValueError as bad:
        return refuse(_("Date illisible : « %(value)s » (AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM).", value=str(bad)[:40]))
    if created_on is None:
        return refuse(_("Date de création manquante."))
    requester_email = str(item.get("requester_email") or "").strip().lower()
    if requester_email and not _EMAIL.match(requester_email):
        return refuse(_("Adresse du demandeur invalide : « %(email)s ».", email=requester_email[:80]))
    requester = lk.users.get(requester_email)
    organisation = None
    org_ref = str(item.get("organisation_external_id") or "").strip()
    org_name = str(item.get("organisation") or "").strip()
    if org_ref:
        organisation = lk.orgs_by_external.get(org_ref)
        if organisation is None:
            return refuse(_("Organisation inconnue : %(id)s.", id=org_ref))
    elif org_name:
        organisation = lk.orgs_by_name.get(org_name.lower())
        if organisation is None:
            return refuse(_("Organisation inconnue : « %(name)s ».", name=org_name[:80]))
    elif requester and requester[1]:
        organisation = db.session.get(Organisation, requester[1])
    elif requester_email:
        organisation = lk.orgs_by_domain.get(requester_email.rsplit("@", 1)[-1])
    if organisation is None:
        return refuse(_("Organisation introuvable : donnez organisation_id, l'organisation ou un demandeur connu."))
    if organisation.kind == OrganisationKind.VENDOR:
        return refuse(_("Un ticket appartient à une organisation cliente, pas à l'éditeur."))
    status = _status(item.get("status"), export.mapping, lk)
    if status is None:
        return refuse(_("Statut inconnu : « %(status)s » (ajoutez-le aux correspondances).", status=str(item.get("status") or "")[:60]))
    request_type = None
    type_value = str(item.get("type") or "").strip()
    if type_value:
        mapped = export.mapping.get("type", {}).get(tabular.normalise_header(type_value), type_value)
        request_type = lk.types.get(str(mapped).lower())
        if request_type is None:
            notes.append(_("Type « %(type)s » inconnu : laissé vide.", type=type_value[:60]))
    priority = lk.normal
    priority_value = str(item.get("priority") or "").strip()
    if priority_value:
        mapped = export.mapping.get("priority", {}).get(tabular.normalise_header(priority_value), priority_value)
        priority = lk.priorities.get(str(mapped).lower())
        if priority is None:
            priority = lk.normal
            notes.append(_("Priorité « %(value)s » inconnue : normale.", value=priority_value[:60]))
    product = None
    product_value = str(item.get("product") or "").strip()
    if product_value:
        product = lk.products.get(product_value.lower())
        if product is None:
            notes.append(_("Produit « %(value)s » inconnu : laissé vide.", value=product_value[:60]))
    channel_value = tabular.normalise_header(item.get("channel") or "")
    channel = export.mapping.get("channel", {}).get(channel_value, Channel.WEB if not channel_value else None)
    if channel not in Channel.ALL:
        notes.append(_("Canal « %(value)s » inconnu : web.", value=str(item.get("channel"))[:30]))
        channel = Channel.WEB
    messages = []
    for n, message in enumerate(item.get("messages") or []):
        body = tickets.clean_text(message.get("body"), _("Message"), tickets.BODY_MAX, interactive=False)
        if not body and not message.get("attachments"):
            continue
        try:
            at = parse_date(message.get("created_on"), lk.zone) or created_on
        except ValueError as bad:
            return refuse(_("Date de message illisible : « %(value)s ».", value=str(bad)[:40]))
        author_email = str(message.get("author_email") or "").strip().lower() or (requester_email if n == 0 else "")
        files = []
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):
                continue
            name = os.path.basename(str(attachment.get("filename") or attachment.get("path") or "")).strip() or "fichier"
            if attachment.get("content_base64"):
                try:
                    data = base64.b64decode(attachment["content_base64"], validate=False)
                except (binascii.Error, ValueError):
                    return refuse(_("Pièce jointe %(name)s : base64 illisible.", name=name))
            else:
                data = export.read_file(str(attachment.get("path") or attachment.get("filename") or ""))
                if data is None:
                    return refuse(_("Pièce jointe introuvable : %(name)s.", name=name))
            try:
                uploads.inspect_upload(name, io.BytesIO(data), max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
            except uploads.UploadRefused as refused:
                return refuse(_("Pièce jointe %(name)s refusée : %(why)s", name=name, why=refused.message))
            files.append((name, data))
        author = lk.users.get(author_email)
        messages.append({
            "body": body or _("(pièce jointe)"), "created_on": at, "internal": _flag(message.get("internal")),
            "author_id": author[0] if author else None, "author_email": None if author else (author_email or None), "files": files,
            "by_support": bool(author and author[1] in lk.vendor_ids),
        })
    if not messages:
        return refuse(_("Aucun message : le ticket doit avoir au moins un texte."))
    messages.sort(key=lambda m: m["created_on"])
    last = max([messages[-1]["created_on"], created_on] + [d for d in (resolved_on, closed_on) if d])
    if status.category in StatusCategory.DONE and resolved_on is None:
        resolved_on = closed_on or messages[-1]["created_on"]
    if status.category == StatusCategory.CLOSED and closed_on is None:
        closed_on = resolved_on
    if status.category not in StatusCategory.DONE:
        resolved_on = closed_on = None
    first_answer = next((m["created_on"] for m in messages if m["by_support"] and not m["internal"]), None)
    values = {
        "first_responded_on": first_answer,
        "title": tickets.clean_title(title, interactive=False), "organisation_id": organisation.id, "requester_id": requester[0] if requester else None,
        "requester_email": None if requester else (requester_email or None), "type_id": getattr(request_type, "id", None),
        "product_id": getattr(product, "id", None), "priority_id": priority.id, "status_id": status.id, "status_category": status.category,
        "channel": channel, "created_on": created_on, "last_activity_on": last, "resolved_on": resolved_on, "closed_on": closed_on,
        "messages": messages,
    }
    return Outcome(row, reference, title, CREATE, notes=notes, values=values)


def _status(value, mapping, lk):
    value = str(value or "").strip()
    if not value:
        return lk.first_status.get(StatusCategory.CLOSED)  # an old export without statuses: history
    mapped = mapping.get("status", {}).get(tabular.normalise_header(value))
    for candidate in (mapped, value):
        if candidate and str(candidate).lower() in lk.statuses:
            return lk.statuses[str(candidate).lower()]
        if candidate in StatusCategory.ORDER:
            return lk.first_status.get(candidate)
    return None
