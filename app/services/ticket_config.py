"""The desk's reference data with sensible defaults (T1, T4, T5, T12): created once, then
the admins' to change in the admin screens."""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import BusinessCalendar, CannedResponse, Priority, Queue, RequestType, Routing, StatusCategory, Ticket, TicketStatus
from app.services import ServiceError, business_hours

HOUR = 60
DAY = 8 * HOUR  # a business day of the default calendar

REQUEST_TYPES = [
    "Problème technique / incident",
    "Question d'utilisation ou formation",
    "Suivi de mise à jour et nouvelle version",
    "Demande de démonstration",
    "Demande d'offre technique et financière",
    "Demande de résiliation",
]
# key, name, first response, resolution (business minutes)
PRIORITIES = [
    ("urgent", "Urgente", 1 * HOUR, 4 * HOUR),
    ("high", "Haute", 4 * HOUR, 1 * DAY),
    ("normal", "Normale", 8 * HOUR, 3 * DAY),
    ("low", "Basse", 24 * HOUR, 10 * DAY),
]
STATUSES = [
    ("Nouveau", StatusCategory.NEW),
    ("Assigné", StatusCategory.OPEN),
    ("En cours", StatusCategory.OPEN),
    ("En attente du client", StatusCategory.PENDING),
    ("Résolu", StatusCategory.RESOLVED),
    ("Fermé", StatusCategory.CLOSED),
]
OFFICE_WEEK = {str(day): [["08:00", "12:00"], ["13:00", "17:00"]] for day in range(5)}
QUEUES = [("Support niveau 1", 1, Routing.ROUND_ROBIN), ("Support niveau 2", 2, Routing.LEAST_LOADED), ("Support niveau 3 (experts)", 3, Routing.MANUAL)]
CANNED = [
    ("Accusé de réception", "Bonjour {client},\n\nNous avons bien reçu votre demande {ticket} et nous l'étudions. Nous revenons vers vous rapidement.\n\nCordialement,\n{agent}"),
    ("Demande d'informations", "Bonjour {client},\n\nPour avancer sur la demande {ticket}, pourriez-vous nous indiquer la version du logiciel utilisée et joindre une capture d'écran du message d'erreur ?\n\nMerci,\n{agent}"),
    ("Résolution", "Bonjour {client},\n\nLa demande {ticket} est résolue. N'hésitez pas à répondre à ce message si le problème persiste.\n\nCordialement,\n{agent}"),
]

CATEGORY_LABELS = {
    StatusCategory.NEW: _l("Nouveau"),
    StatusCategory.OPEN: _l("En cours"),
    StatusCategory.PENDING: _l("En attente"),
    StatusCategory.RESOLVED: _l("Résolu"),
    StatusCategory.CLOSED: _l("Fermé"),
}


def ensure_defaults():
    """Create whatever reference data is missing; never overwrite an admin's changes."""
    if not db.session.query(RequestType.id).first():
        db.session.add_all(RequestType(name=name, position=i) for i, name in enumerate(REQUEST_TYPES))
    if not db.session.query(Priority.id).first():
        db.session.add_all(
            Priority(key=key, name=name, position=i, first_response_minutes=first, resolution_minutes=resolution)
            for i, (key, name, first, resolution) in enumerate(PRIORITIES)
        )
    if not db.session.query(TicketStatus.id).first():
        db.session.add_all(TicketStatus(name=name, category=category, position=i) for i, (name, category) in enumerate(STATUSES))
    if not db.session.query(BusinessCalendar.id).first():
        db.session.add(BusinessCalendar(name="Heures ouvrées", timezone="Europe/Paris", week=OFFICE_WEEK))
    if not db.session.query(Queue.id).first():
        db.session.add_all(Queue(name=name, support_level=level, routing=routing) for name, level, routing in QUEUES)
    if not db.session.query(CannedResponse.id).first():
        db.session.add_all(CannedResponse(title=title, body=body) for title, body in CANNED)
    db.session.flush()


# --- rules for the admin screens (whatever screen or import changes the reference data) ---


def check_type_removable(request_type):
    if db.session.query(Ticket.id).filter(Ticket.type_id == request_type.id).first():
        raise ServiceError(_("Ce type est utilisé par des tickets : désactivez-le plutôt."))


def check_status_removable(status):
    if db.session.query(Ticket.id).filter(Ticket.status_id == status.id).first():
        raise ServiceError(_("Ce statut est utilisé par des tickets : désactivez-le plutôt."))


def apply_status_change(status):
    """Tickets keep a copy of their status's stage for fast lists: follow a remapping."""
    db.session.query(Ticket).filter(Ticket.status_id == status.id).update({Ticket.status_category: status.category})


def check_priority_targets(priority):
    if priority.first_response_minutes <= 0 or priority.resolution_minutes < priority.first_response_minutes:
        raise ServiceError(_("Les délais doivent être positifs, la résolution au moins égale à la première réponse."))


def check_calendar(calendar):
    """Opening hours as typed by an admin (JSON text) become valid settings, or a refusal."""
    try:
        week = json.loads(calendar.week) if isinstance(calendar.week, str) else calendar.week
        business_hours.Calendar.from_settings(calendar.timezone, week, [])
    except (ValueError, TypeError) as error:
        raise ServiceError(_("Horaires invalides : %(error)s", error=str(error)))
    calendar.week = week
