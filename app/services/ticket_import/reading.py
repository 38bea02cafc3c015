"""Reading an export of the previous help desk (JSON, CSV, XLSX, or a ZIP of one with its
files) into tickets with their messages, and the name mappings that apply to it."""
import io
import json
import os
import zipfile

from flask_babel import gettext as _

from app.models import Channel, StatusCategory
from app.services import ServiceError, tabular

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
