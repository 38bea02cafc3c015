"""Links between tickets (T14): sub-requests, "related to", and merging a duplicate."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import Attachment, StatusCategory, Ticket, TicketLink, TicketMessage
from app.services import ServiceError, audit
from app.services.tickets import (
    MERGED,
    TicketNotFound,
    access_ticket,
    can_work,
    default_status,
    publish_change,
    record_event,
    set_status,
    touch,
)


def _other(actor, ticket, other_ref):
    """The other ticket, by id or number, through the actor's scope; same organisation only,
    so no link or merge can carry one client's data to another."""
    other = None
    ref = str(other_ref or "").strip()
    if ref.isdigit():
        other = access_ticket(actor, int(ref))
    elif ref:
        found = db.session.query(Ticket.id).filter(Ticket.number == ref.upper()).scalar()
        if found is None:
            raise TicketNotFound()
        other = access_ticket(actor, found)
    if other is None:
        raise ServiceError(_("Indiquez le numéro de l'autre ticket."))
    if other.id == ticket.id:
        raise ServiceError(_("Un ticket ne peut pas être lié à lui-même."))
    if other.organisation_id != ticket.organisation_id:
        raise ServiceError(_("Les deux tickets doivent concerner la même organisation."))
    return other


def link_related(actor, ticket, other_ref):
    if not can_work(actor):
        raise TicketNotFound()
    other = _other(actor, ticket, other_ref)
    exists = (
        db.session.query(TicketLink)
        .filter(
            ((TicketLink.ticket_id == ticket.id) & (TicketLink.linked_id == other.id))
            | ((TicketLink.ticket_id == other.id) & (TicketLink.linked_id == ticket.id))
        )
        .first()
    )
    if exists is None:
        db.session.add(TicketLink(ticket_id=ticket.id, linked_id=other.id))
        record_event(ticket, actor, "linked", new=other.number)
        record_event(other, actor, "linked", new=ticket.number)
    return other


def related_tickets(ticket):
    links = db.session.query(TicketLink).filter((TicketLink.ticket_id == ticket.id) | (TicketLink.linked_id == ticket.id)).all()
    return [link.linked if link.ticket_id == ticket.id else link.ticket for link in links]


def set_parent(actor, child, parent_ref):
    """Make `child` a sub-request of another ticket."""
    if not can_work(actor):
        raise TicketNotFound()
    parent = _other(actor, child, parent_ref)
    cursor = parent
    while cursor is not None:  # no cycles: the parent may not descend from the child
        if cursor.id == child.id:
            raise ServiceError(_("Ce lien créerait une boucle de sous-demandes."))
        cursor = cursor.parent
    child.parent = parent
    record_event(child, actor, "parent", "parent", None, parent.number)
    record_event(parent, actor, "child_added", new=child.number)
    return parent


def merge(actor, duplicate, target_ref):
    """Move the duplicate's messages and attachments into the target; close the duplicate and
    point it to the target."""
    if not can_work(actor):
        raise TicketNotFound()
    target = _other(actor, duplicate, target_ref)
    if duplicate.merged_into_id:
        raise ServiceError(_("Ce ticket a déjà été fusionné."))
    if target.merged_into_id:
        raise ServiceError(_("Le ticket cible a lui-même été fusionné dans un autre."))
    moved = db.session.query(TicketMessage).filter(TicketMessage.ticket_id == duplicate.id).update({TicketMessage.ticket_id: target.id})
    db.session.query(Attachment).filter(Attachment.ticket_id == duplicate.id).update({Attachment.ticket_id: target.id})
    db.session.query(Ticket).filter(Ticket.parent_id == duplicate.id).update({Ticket.parent_id: target.id})
    duplicate.merged_into = target
    publish_change(duplicate, MERGED, actor)
    publish_change(target, MERGED, actor)
    set_status(actor, duplicate, default_status(StatusCategory.CLOSED))
    record_event(duplicate, actor, "merged_into", new=target.number)
    # The public line names the duplicate only: a count would tell partners how many notes moved.
    record_event(target, actor, "merged_from", new=duplicate.number)
    touch(target, actor)
    touch(duplicate, actor)
    audit.record(db.session, "ticket.merged", actor=actor, target=duplicate, details={"into": target.number, "messages": moved})
    db.session.expire(target, ["messages"])
    return target


def link_follow_up(ticket, closed_ticket):
    """A mail answering a ticket closed too long ago opens a new one, linked to the old."""
    db.session.add(TicketLink(ticket_id=ticket.id, linked_id=closed_ticket.id))
    record_event(ticket, None, "linked", new=closed_ticket.number)
    record_event(closed_ticket, None, "linked", new=ticket.number)
