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

Imported tickets go through the ticket desk's one door (`tickets.open_ticket` in its import
mode): they keep their dates, so reports count them in the period they belong to; their text
follows the desk's one cleaning rule (too long: cut and marked); they send no mail, webhook or
desk event, get no SLA deadline or automatic assignment; and a ticket whose reference was
already imported is left alone, so running an import twice adds nothing.

The package: reading.py reads an export, planning.py checks and maps it (the preview), this
module writes the plan.
"""
import io

from flask import current_app

from app.extensions import db
from app.models import NovaUser, Organisation, Priority, Product, RequestType, SyncRun, TicketStatus
from app.services import audit, clock, tickets, uploads
from app.services.ticket_import.planning import ACTION_LABELS, CREATE, ERROR, UNCHANGED, Outcome, Plan, parse_date, plan
from app.services.ticket_import.reading import DEFAULT_MAPPING, Export, load_mapping_file, read_export_bytes, read_export_path

__all__ = [
    "ACTION_LABELS", "CREATE", "DEFAULT_MAPPING", "ERROR", "Export", "Outcome", "Plan", "UNCHANGED", "apply", "import_tickets",
    "load_mapping_file", "parse_date", "plan", "read_export_bytes", "read_export_path",
]


class _Rows:
    """The reference rows an import names again and again (organisations, people, statuses…),
    each read once and held for the run: the session's identity map keeps them only as long as
    something else does."""

    def __init__(self):
        self.held = {}

    def get(self, model, ident):
        if ident is None:
            return None
        key = (model, ident)
        if key not in self.held:
            self.held[key] = db.session.get(model, ident)
        return self.held[key]


def apply(actor, the_plan, batch=500):
    """Write the plan's new tickets (not the ones in error) in the caller's transaction, through
    the ticket door's import mode, `batch` at a time. Stored files are removed again when
    anything fails, so nothing is left half-written."""
    root = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stored_keys = []
    rows = _Rows()
    to_create = [o for o in the_plan.outcomes if o.action == CREATE]
    try:
        for start in range(0, len(to_create), batch):
            entries = []
            for outcome in to_create[start:start + batch]:
                v = outcome.values
                messages = []
                for m in v["messages"]:
                    stored = []
                    for name, data in m["files"]:
                        file = uploads.store_upload(root, name, io.BytesIO(data), max_bytes=limit)
                        stored_keys.extend(k for k in (file.storage_key, file.preview_key) if k)
                        stored.append(file)
                    messages.append(tickets.ImportedMessage(
                        body=m["body"], created_on=m["created_on"], internal=m["internal"], author_id=m["author_id"],
                        author_email=m["author_email"], stored=stored,
                    ))
                history = tickets.ImportedHistory(
                    reference=outcome.reference, status=rows.get(TicketStatus, v["status_id"]), created_on=v["created_on"],
                    last_activity_on=v["last_activity_on"], resolved_on=v["resolved_on"], closed_on=v["closed_on"],
                    first_responded_on=v["first_responded_on"], messages=messages,
                )
                fields = {
                    "organisation": rows.get(Organisation, v["organisation_id"]), "title": v["title"],
                    "requester": rows.get(NovaUser, v["requester_id"]), "requester_email": v["requester_email"],
                    "request_type": rows.get(RequestType, v["type_id"]), "product": rows.get(Product, v["product_id"]),
                    "priority": rows.get(Priority, v["priority_id"]), "channel": v["channel"],
                }
                entries.append((fields, history))
            tickets.open_imported_tickets(actor, entries)
    except BaseException:
        for key in stored_keys:
            uploads.delete_stored(root, key)
        raise
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
