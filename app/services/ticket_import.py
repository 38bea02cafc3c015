"""Import from the previous help desk: tickets with their messages, dates, statuses,
requesters and attachments, keeping the old number as `Ticket.external_reference`.

Two export formats are read (documented in README.md, "Importer l'ancien help desk"):

JSON — {"mapping": {…optional…}, "tickets": [{
    "reference": "HD-1042", "title": "…", "organisation_external_id": "ERP-0101"
    (or "organisation": its name; else the requester's organisation, else the domain of
    the requester's e-mail), "requester_email": "…", "status": "Fermé", "type": "Incident",
    "priority": "haute", "product": "NOVA-CBS", "channel": "email",
    "created_on": "2024-03-01T09:30:00+00:00", "resolved_on": …, "closed_on": …,
    "messages": [{"author_email": "…", "created_on": "…", "body": "…", "internal": false,
                  "attachments": [{"filename": "capture.png", "content_base64": "…"}
                                  or {"filename": "capture.png", "path": "files/capture.png"}]}]}]}
CSV or XLSX — one line per message, the ticket's columns repeated on each of its lines:
    reference;titre;organisation_id;organisation;demandeur;statut;type;priorite;produit;canal;
    cree_le;resolu_le;ferme_le;auteur;date_message;message;interne;pieces_jointes
    (pieces_jointes: file names separated by "|", relative to the export's folder).
A ZIP holding the export and its files is read the same way (the admin screen's upload).

Dates are ISO 8601 or dd/mm/yyyy [hh:mm[:ss]]; without an offset they are in DEFAULT_TIMEZONE.
Statuses, types and priorities are matched by name, then through the mapping — the export's
"mapping" (or the CLI's --mapping file) first, then DEFAULT_MAPPING. An unknown status is an
error; an unknown type is left empty and an unknown priority becomes "normal" (both said in
the preview).

Imported tickets keep their dates, so reports count them in the period they belong to; they
send no mail or webhook, get no SLA deadline or automatic assignment, and a ticket whose
reference was already imported is left alone, so running an import twice adds nothing.
"""
import base64
import binascii
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    Attachment,
    Channel,
    NovaUser,
    Organisation,
    OrganisationKind,
    Priority,
    Product,
    RequestType,
    StatusCategory,
    SyncRun,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from app.services import ServiceError, audit, clock, sla, tabular, uploads

CREATE, UNCHANGED, ERROR = "create", "unchanged", "error"
ACTION_LABELS = {CREATE: "Création", UNCHANGED: "Déjà importé", ERROR: "Erreur"}
DEFAULT_MAPPING = {
    "status": {
        "nouveau": StatusCategory.NEW, "new": StatusCategory.NEW, "a_traiter": StatusCategory.NEW,
        "ouvert": StatusCategory.OPEN, "open": StatusCategory.OPEN, "en_cours": StatusCategory.OPEN, "in_progress": StatusCategory.OPEN, "assigne": StatusCategory.OPEN,
        "en_attente": StatusCategory.PENDING, "en_attente_client": StatusCategory.PENDING, "pending": StatusCategory.PENDING, "waiting": StatusCategory.PENDING, "on_hold": StatusCategory.PENDING,
        "resolu": StatusCategory.RESOLVED, "resolved": StatusCategory.RESOLVED, "solved": StatusCategory.RESOLVED, "traite": StatusCategory.RESOLVED,
        "ferme": StatusCategory.CLOSED, "clos": StatusCategory.CLOSED, "closed": StatusCategory.CLOSED, "cloture": StatusCategory.CLOSED, "annule": StatusCategory.CLOSED, "cancelled": StatusCategory.CLOSED,
    },
    "priority": {
        "urgente": "urgent", "urgent": "urgent", "critique": "urgent", "critical": "urgent", "bloquant": "urgent",
        "haute": "high", "elevee": "high", "high": "high", "majeur": "high",
        "normale": "normal", "moyenne": "normal", "normal": "normal", "medium": "normal",
        "basse": "low", "faible": "low", "low": "low", "mineur": "low",
    },
    "type": {},
    "channel": {"mail": Channel.EMAIL, "e_mail": Channel.EMAIL, "email": Channel.EMAIL, "courriel": Channel.EMAIL, "telephone": Channel.PHONE, "tel": Channel.PHONE, "phone": Channel.PHONE, "web": Channel.WEB, "portail": Channel.WEB, "chat": Channel.CHAT, "api": Channel.API},
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


# --- reading an export ----------------------------------------------------------------------


class Export:
    """The tickets of an export and a way to read the files it names."""

    def __init__(self, label, tickets, mapping=None, read_file=None):
        self.label = label
        self.tickets = tickets  # [(row label, ticket dict with "messages")]
        self.mapping = mapping or {}
        self._read_file = read_file

    def read_file(self, name):
        if self._read_file is None or not name:
            return None
        return self._read_file(name)


def _safe_relative(name):
    name = name.replace("\\", "/").lstrip("/")
    if any(part == ".." for part in name.split("/")):
        return None
    return name


def read_export_path(path, mapping=None):
    """The export at `path` (JSON, CSV, XLSX or ZIP); files are read next to it."""
    with open(path, "rb") as handle:
        data = handle.read()
    folder = os.path.dirname(os.path.abspath(path))

    def read_file(name):
        name = _safe_relative(name)
        if name is None:
            return None
        full = os.path.join(folder, name)
        return open(full, "rb").read() if os.path.isfile(full) else None

    return _parse(os.path.basename(path), data, read_file, mapping)


def read_export_bytes(filename, data, mapping=None):
    return _parse(filename, data, None, mapping)


def _parse(filename, data, read_file, mapping):
    if data[:2] == b"PK":
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "[Content_Types].xml" not in names:  # a ZIP of the export and its files, not an XLSX
            inner = next((n for n in names if n.lower().endswith(".json")), None) or next((n for n in names if n.lower().endswith((".csv", ".xlsx"))), None)
            if inner is None:
                raise ServiceError(_("L'archive ne contient aucun export (JSON, CSV ou XLSX)."))
            base = os.path.dirname(inner)

            def read_in_zip(name):
                name = _safe_relative(name)
                for candidate in (f"{base}/{name}" if base else name, name):
                    if candidate in names:
                        return archive.read(candidate)
                return None

            return _parse(inner, archive.read(inner), read_in_zip, mapping)
    if filename.lower().endswith(".json") or data.lstrip()[:1] in (b"{", b"["):
        try:
            payload = json.loads(tabular.decode(data))
        except ValueError:
            raise ServiceError(_("Ce fichier JSON n'est pas lisible."))
        return _from_json(filename, payload, read_file, mapping)
    return _from_rows(filename, tabular.read_table(filename, data), read_file, mapping)


def _from_json(label, payload, read_file, mapping):
    if isinstance(payload, list):
        payload = {"tickets": payload}
    if not isinstance(payload, dict) or not isinstance(payload.get("tickets"), list):
        raise ServiceError(_("Le JSON doit contenir une liste « tickets »."))
    merged = _merge_mapping(payload.get("mapping"), mapping)
    tickets = []
    for i, item in enumerate(payload["tickets"]):
        item = item if isinstance(item, dict) else {}
        messages = [m for m in item.get("messages") or [] if isinstance(m, dict)]
        tickets.append((f"tickets[{i}]", {**item, "messages": messages}))
    return Export(label, tickets, merged, read_file)


def _from_rows(label, rows, read_file, mapping):
    tickets, by_reference = [], {}
    for line, row in rows:
        p = lambda *names: tabular.pick(row, *names)  # noqa: E731
        reference = p("reference", "numero", "ticket", "id")
        message = {
            "author_email": p("auteur", "author_email", "auteur_email", "de"),
            "created_on": p("date_message", "message_date", "message_created_on"),
            "body": p("message", "body", "texte"),
            "internal": p("interne", "internal"),
            "attachments": [{"filename": os.path.basename(n.strip()), "path": n.strip()} for n in p("pieces_jointes", "attachments", "fichiers").split("|") if n.strip()],
        }
        if reference and reference in by_reference:
            by_reference[reference]["messages"].append(message)
            continue
        ticket = {
            "reference": reference, "title": p("titre", "title", "sujet", "objet"),
            "organisation_external_id": p("organisation_id", "id_organisation", "organisation_external_id"),
            "organisation": p("organisation", "client"), "requester_email": p("demandeur", "requester_email", "email_demandeur"),
            "status": p("statut", "status", "etat"), "type": p("type", "type_de_demande"), "priority": p("priorite", "priority"),
            "product": p("produit", "product"), "channel": p("canal", "channel"),
            "created_on": p("cree_le", "created_on", "date_creation", "ouvert_le"), "resolved_on": p("resolu_le", "resolved_on", "date_resolution"),
            "closed_on": p("ferme_le", "closed_on", "date_cloture"), "messages": [message],
        }
        if reference:
            by_reference[reference] = ticket
        tickets.append((line, ticket))
    return Export(label, tickets, _merge_mapping(None, mapping), read_file)


def _merge_mapping(from_export, from_caller):
    merged = {kind: dict(values) for kind, values in DEFAULT_MAPPING.items()}
    for extra in (from_export, from_caller):
        for kind, values in (extra or {}).items() if isinstance(extra, dict) else ():
            if isinstance(values, dict):
                merged.setdefault(kind, {}).update({tabular.normalise_header(k): v for k, v in values.items()})
    return merged


def load_mapping_file(path):
    with open(path, "rb") as handle:
        mapping = json.loads(tabular.decode(handle.read()))
    if not isinstance(mapping, dict):
        raise ServiceError(_("Le fichier de correspondances doit être un objet JSON."))
    return mapping


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
        body = tickets_clean(message.get("body"))
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
        "title": title[:200], "organisation_id": organisation.id, "requester_id": requester[0] if requester else None,
        "requester_email": None if requester else (requester_email or None), "type_id": getattr(request_type, "id", None),
        "product_id": getattr(product, "id", None), "priority_id": priority.id, "status_id": status.id, "status_category": status.category,
        "channel": channel, "created_on": created_on, "last_activity_on": last, "resolved_on": resolved_on, "closed_on": closed_on,
        "messages": messages,
    }
    return Outcome(row, reference, title, CREATE, notes=notes, values=values)


def tickets_clean(value):
    from app.services.tickets import BODY_MAX, CONTROL_CHARACTERS

    return CONTROL_CHARACTERS.sub("", str(value or "")).strip()[:BODY_MAX]


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


# --- applying it ----------------------------------------------------------------------------


def apply(actor, the_plan, batch=500):
    """Write the plan's new tickets (not the ones in error) in the caller's transaction.
    Stored files are removed again when anything fails, so nothing is left half-written."""
    prefix = current_app.config["TICKET_PREFIX"]
    root = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stored_keys = []
    cal = sla.calendar()
    to_create = [o for o in the_plan.outcomes if o.action == CREATE]
    # Anything listening to the session (webhooks, notifications) sees that this is history
    # being imported, not new activity, and stays quiet.
    db.session.info["importing_history"] = True
    try:
        for start in range(0, len(to_create), batch):
            chunk = to_create[start:start + batch]
            tickets = []
            for outcome in chunk:
                v = outcome.values
                ticket = Ticket(
                    external_reference=outcome.reference, title=v["title"], organisation_id=v["organisation_id"], requester_id=v["requester_id"],
                    requester_email=v["requester_email"], type_id=v["type_id"], product_id=v["product_id"], priority_id=v["priority_id"],
                    status_id=v["status_id"], status_category=v["status_category"], channel=v["channel"], created_by_id=getattr(actor, "id", None),
                    created_on=v["created_on"], last_activity_on=v["last_activity_on"], resolved_on=v["resolved_on"], closed_on=v["closed_on"],
                    sla_paused_minutes=0, first_responded_on=v["first_responded_on"],
                    first_response_minutes=sla.business_minutes(v["created_on"], v["first_responded_on"], cal),
                )
                ticket.resolution_minutes = sla.resolution_minutes(ticket, cal)
                tickets.append(ticket)
            db.session.add_all(tickets)
            db.session.flush()
            messages, with_files = [], []
            for ticket, outcome in zip(tickets, chunk):
                ticket.number = f"{prefix}-{ticket.id:06d}"
                for m in outcome.values["messages"]:
                    message = TicketMessage(
                        ticket_id=ticket.id, author_id=m["author_id"], author_email=m["author_email"], body=m["body"],
                        internal=m["internal"], channel=ticket.channel, created_on=m["created_on"],
                    )
                    messages.append(message)
                    if m["files"]:
                        with_files.append((ticket, message, m["files"]))
                db.session.add(TicketEvent(ticket_id=ticket.id, at=ticket.created_on, actor_id=getattr(actor, "id", None), action="imported", new_value=outcome.reference, internal=True))
            db.session.add_all(messages)
            db.session.flush()
            for ticket, message, files in with_files:
                for name, data in files:
                    stored = uploads.store_upload(root, name, io.BytesIO(data), max_bytes=limit)
                    stored_keys.extend(k for k in (stored.storage_key, stored.preview_key) if k)
                    db.session.add(Attachment(
                        ticket_id=ticket.id, message_id=message.id, filename=stored.filename, content_type=stored.content_type, size=stored.size,
                        sha256=stored.sha256, storage_key=stored.storage_key, preview_key=stored.preview_key, is_image=stored.is_image,
                        width=stored.width, height=stored.height, created_on=message.created_on,
                    ))
            db.session.flush()
    except BaseException:
        for key in stored_keys:
            uploads.delete_stored(root, key)
        raise
    finally:
        db.session.info.pop("importing_history", None)
    return the_plan


def import_tickets(actor, export, *, origin, dry_run=False):
    """Plan, then (unless a dry run) apply and log the run. Returns (plan, run or None)."""
    the_plan = plan(export)
    if dry_run:
        return the_plan, None
    run = SyncRun(kind="tickets", origin=origin, source_label=export.label[:500], actor_id=getattr(actor, "id", None), started_on=clock.now())
    apply(actor, the_plan)
    summary = the_plan.summary
    run.created, run.unchanged, run.errors = summary[CREATE], summary[UNCHANGED], summary[ERROR]
    run.error_details = [{"row": str(o.row), "id": o.reference, "message": o.error} for o in the_plan.errors[:200]] or None
    run.finished_on = clock.now()
    db.session.add(run)
    audit.record(db.session, "tickets.imported", actor=actor, details={"source": export.label[:200], "created": summary[CREATE], "unchanged": summary[UNCHANGED], "errors": summary[ERROR]})
    db.session.flush()
    return the_plan, run

