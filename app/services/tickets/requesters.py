"""Who a ticket is for (T2, T10): the organisation the actor may file for, its requester,
and attaching a ticket that came from an unknown address to its client."""
from flask_babel import gettext as _
from sqlalchemy import func

from app.extensions import db
from app.models import NovaUser, Ticket, TicketMessage
from app.security import scopes
from app.security.bounds import to_id
from app.services import ServiceError, audit, webhooks
from app.services.tickets.common import FIELDS, TicketNotFound, as_id, can_work, publish_change, record_event, touch


def visible_organisation(actor, organisation_id):
    if organisation_id in (None, ""):
        raise ServiceError(_("Choisissez l'organisation cliente de la demande."), {"organisation": "required"})
    try:
        return scopes.access_organisation(db.session, actor, to_id(organisation_id) or 0)
    except scopes.NotVisible:
        raise ServiceError(_("Organisation inconnue."), {"organisation": "unknown"})


def requester_in(organisation, requester_id):
    if requester_id in (None, ""):
        return None  # filed on behalf of the organisation (e.g. a phone call); attached later
    person = db.session.get(NovaUser, as_id(requester_id))
    if person is None or person.organisation_id != organisation.id:
        raise ServiceError(_("Le demandeur doit appartenir à l'organisation choisie."), {"requester": "mismatch"})
    return person


def identify_requester(actor, ticket, organisation_id, include_others=False):
    """Attach a ticket that came from an unknown address to its client (T10); with
    `include_others`, the same address's other unattached tickets follow. The person's account,
    when one exists in that organisation, becomes the requester."""
    if not can_work(actor):
        raise TicketNotFound()
    address = (ticket.requester_email or "").lower()
    if ticket.requester_id or not address:
        raise ServiceError(_("Ce ticket a déjà un demandeur identifié."))
    organisation = visible_organisation(actor, organisation_id)
    if organisation.kind == "vendor" or organisation.holds_unidentified or not organisation.active:
        raise ServiceError(_("Choisissez l'organisation cliente de la demande."))
    targets = [ticket]
    if include_others:
        targets += unattached_tickets_from(actor, address, exclude=ticket)
    person = (
        db.session.query(NovaUser)
        .filter(func.lower(NovaUser.email) == address, NovaUser.organisation_id == organisation.id, NovaUser.active.is_(True))
        .first()
    )
    for target in targets:
        old = target.organisation.name
        target.organisation = organisation
        if person is not None:
            target.requester = person
            db.session.query(TicketMessage).filter(
                TicketMessage.ticket_id == target.id, func.lower(TicketMessage.author_email) == address, TicketMessage.author_id.is_(None)
            ).update({TicketMessage.author_id: person.id}, synchronize_session=False)
        record_event(target, actor, "identified", "organisation", old, organisation.name)
        webhooks.ticket_updated(target, "organisation", old, organisation.name)
        audit.record(db.session, "ticket.identified", actor=actor, target=target, details={"organisation": organisation.name, "email": address})
        touch(target, actor)
        publish_change(target, FIELDS, actor)
    return targets


def unattached_tickets_from(actor, address, exclude=None):
    """The address's other tickets still held as unidentified, among those the actor sees."""
    query = (
        db.session.query(Ticket)
        .join(Ticket.organisation)
        .filter(
            func.lower(Ticket.requester_email) == address.lower(),
            Ticket.requester_id.is_(None),
            Ticket.organisation.has(holds_unidentified=True),
            scopes.tickets_filter(actor),
        )
    )
    if exclude is not None:
        query = query.filter(Ticket.id != exclude.id)
    return query.order_by(Ticket.id).all()
