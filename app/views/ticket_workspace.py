"""The agents' workspace at /tickets/ (T5–T9, T12, C2, A1): the queue and the open ticket side
by side, and the JSON doors the page calls to act where it reads. Thin like the rest of the
desk: read through app/security/ticket_queries.py and scopes.py, act through
app/services/tickets.py, commit once, answer in JSON."""

from flask import abort, current_app, g, jsonify, render_template, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Priority, Queue, StatusCategory, Ticket, TicketEvent, TicketMessage, TicketStatus
from app.security import scopes
from app.security.ticket_queries import PAGE_SIZE, TicketFilters, box_counts, category_counts, new_and_closed, ticket_page
from app.services import ServiceError, clock, figure_cache, satisfaction, sla, ticket_links, tickets
from app.services.ticket_config import CATEGORY_LABELS
from app.views.formatting import local_datetime, relative_time
from app.views.labels import CHANNEL_LABELS, event_sentence

SOON = 2 * 60 * 60  # seconds before a deadline when a row turns « Bientôt dû »
SEND_THEN = {"": None, "pending": StatusCategory.PENDING, "resolved": StatusCategory.RESOLVED}


@figure_cache.per_scope
def _box_counts(user, boxes, person_id):
    """Every box's count, kept a few seconds per scope (FIGURES_CACHE_SECONDS; a committed
    ticket change shows at once); « Mes tickets » is one's own, hence the person in the key."""
    return box_counts(user, list(boxes))


@figure_cache.per_scope
def _new_and_closed(user):
    return new_and_closed(user)


def box_labels(queues):
    labels = [
        ("todo", _("À traiter")),
        ("mine", _("Mes tickets")),
        ("unassigned", _("Non attribués")),
        ("late", _("En retard")),
        ("waiting", _("En attente du client")),
    ]
    return labels + [(f"queue-{q.id}", q.name) for q in queues]


def sla_state(row, now):
    """What a row says of its deadlines, in words (colour follows the key)."""
    if row.status_category in StatusCategory.DONE:
        return "done", _("Terminé")
    if row.sla_paused_since is not None:
        return "paused", _("Délai en pause")
    due = row.first_response_due if row.first_responded_on is None else row.resolution_due
    if due is None:
        return "ok", _("Sans échéance")
    left = (due - now).total_seconds()
    if left < 0:
        return "late", _("En retard")
    if left < SOON:
        return "soon", _("Bientôt dû")
    return "ok", _("Dans les délais")


def _active_queues():
    return db.session.query(Queue).filter_by(active=True).order_by(Queue.support_level, Queue.name).all()


def ticket_context(user, ticket):
    """What the ticket page and the workspace's pane show of one ticket, read through scopes."""
    messages = (
        db.session.query(TicketMessage)
        .options(selectinload(TicketMessage.attachments), selectinload(TicketMessage.author))
        .filter(TicketMessage.ticket_id == ticket.id, scopes.messages_filter(user))
        .order_by(TicketMessage.created_on, TicketMessage.id)
        .all()
    )
    events = (
        db.session.query(TicketEvent)
        .options(selectinload(TicketEvent.actor))
        .filter(TicketEvent.ticket_id == ticket.id, scopes.events_filter(user))
        .order_by(TicketEvent.at, TicketEvent.id)
        .all()
    )
    timeline = sorted(
        [("message", m.created_on, m) for m in messages] + [("event", e.at, e) for e in events],
        key=lambda item: (item[1], 0 if item[0] == "event" else 1),
    )
    working = tickets.can_work(user)
    assigning = tickets.can_assign(user)
    return {
        "ticket": ticket,
        "timeline": timeline,
        "event_sentence": event_sentence,
        "working": working,
        "assigning": assigning,
        "statuses": tickets.allowed_statuses(user, ticket),
        "priorities": db.session.query(Priority).order_by(Priority.position).all(),
        "agents": tickets.staff_members() if assigning else [],
        "rating": satisfaction.rating_of(ticket),
        "queues": _active_queues(),
        "late": sla.is_late(ticket),
        "channels": CHANNEL_LABELS,
        "category_labels": CATEGORY_LABELS,
        "max_mb": current_app.config["MAX_ATTACHMENT_MB"],
        "relative_time": relative_time,
    }


class TicketWorkspaceMixin:
    """Mixed into TicketDeskView: the workspace's pages and endpoints."""

    # --- reads -------------------------------------------------------------------------------

    def _counts(self, boxes, filters=None):
        """Every box's count, and T9's new and closed figures (of the search when searching)."""
        user = g.user
        figures = category_counts(user, filters) if filters is not None and not filters.box else _new_and_closed(user)
        return _box_counts(user, tuple(key for key, _label in boxes), user.id), {"new": figures["new"], "closed": figures["closed"]}

    def _queue_context(self, filters, with_counts=True):
        user = g.user
        queues = _active_queues()
        boxes = box_labels(queues)
        now = clock.now()
        rows = ticket_page(user, filters)
        counts, figures = self._counts(boxes, filters) if with_counts else ({}, {})
        return {
            "new_count": figures.get("new"),
            "closed_count": figures.get("closed"),
            "filters": filters,
            "rows": rows,
            "states": {row.id: sla_state(row, now) for row in rows},
            "boxes": boxes,
            "box_label": dict(boxes).get(filters.box, _("Recherche")),
            "counts": counts,
            "page_size": PAGE_SIZE,
            "relative_time": relative_time,
            "local_datetime": local_datetime,
        }

    def _filters(self):
        args = request.args
        if not any(key in args for key in ("box", "view", "q", "priority", "type", "organisation", "assignee", "queue", "overdue", "created_since", "resolved_since")):
            args = {**args.to_dict(), "box": "todo"}
        return TicketFilters.from_args(args)

    def _pane_context(self, ticket):
        context = ticket_context(g.user, ticket)
        user = g.user
        unidentified = bool(ticket.requester_email and not ticket.requester_id)
        context.update(
            taken=any(a.id == user.id for a in ticket.assignees),
            drafting=scopes.writes_articles(user) and ticket.status_category in StatusCategory.DONE,
            related=[t for t in ticket_links.related_tickets(ticket) if t.organisation_id == ticket.organisation_id],
            children=db.session.query(Ticket).filter(Ticket.parent_id == ticket.id, scopes.tickets_filter(user)).all(),
            identify_choices=scopes.client_organisations(db.session, user, active_only=True) if unidentified else [],
            other_unattached=len(tickets.unattached_tickets_from(user, ticket.requester_email, exclude=ticket)) if unidentified else 0,
            canned=[{"title": c.title, "text": tickets.fill_canned_response(c, ticket, user)} for c in tickets.active_canned_responses()],
            state=sla_state(ticket, clock.now()),
        )
        return context

    def workspace(self, ticket=None):
        """The whole page: the queue, and the ticket when one is open (a direct link or a reload)."""
        filters = self._filters()
        context = self._queue_context(filters)
        pane_html = Markup(render_template("tickets/_pane.html", **self._pane_context(ticket))) if ticket is not None else ""
        return self.render_template(
            "tickets/workspace.html",
            title=f"{ticket.number} — {ticket.title}" if ticket is not None else _("Tickets"),
            open_ticket=ticket,
            pane_html=pane_html,
            queue_args=filters.as_args(),
            statuses_for_bulk=db.session.query(TicketStatus).filter_by(active=True).order_by(TicketStatus.position).all(),
            priorities=db.session.query(Priority).order_by(Priority.position).all(),
            organisations=scopes.ticket_filter_organisations(db.session, g.user),
            queues=_active_queues(),
            agents=tickets.staff_members() if tickets.can_assign(g.user) else [],
            assigning=tickets.can_assign(g.user),
            **context,
        )

    @expose("/queue")
    @has_access
    @permission_name("list")
    def queue(self):
        """The queue's rows, for the page to refresh without a reload (counts: /tickets/counts)."""
        if not tickets.can_work(g.user):
            abort(404)
        context = self._queue_context(self._filters(), with_counts=False)
        html = self.render_template("tickets/_queue_rows.html", **context)
        return jsonify({"html": html, "box": context["filters"].box, "title": str(context["box_label"])})

    @expose("/counts")
    @has_access
    @permission_name("list")
    def counts(self):
        """Every box's count and the new / closed figures: read apart from the rows, since
        counting a whole desk costs more than one page of it."""
        if not tickets.can_work(g.user):
            abort(404)
        filters = self._filters() if request.args else None
        counts, figures = self._counts(box_labels(_active_queues()), filters)
        return jsonify({"counts": counts, "figures": figures})

    @expose("/<int:ticket_id>/pane")
    @has_access
    @permission_name("show")
    def pane(self, ticket_id):
        """One ticket's pane (its history, its controls, the composer) as a fragment."""
        if not tickets.can_work(g.user):
            abort(404)
        ticket = self._ticket(ticket_id)
        return self.render_template("tickets/_pane.html", **self._pane_context(ticket))

    # --- actions: one service call each, answered in JSON --------------------------------------

    def _answer(self, ticket_id, action, success):
        if not tickets.can_work(g.user):
            abort(404)
        ticket = self._ticket(ticket_id)
        try:
            action(ticket)
        except ServiceError as error:
            db.session.rollback()
            if error.not_found:
                return jsonify({"error": error.message}), 404
            return jsonify({"error": error.message}), 422
        db.session.commit()
        return jsonify({"message": str(success), "ticket_id": ticket.id})

    @expose("/<int:ticket_id>/take", methods=["POST"])
    @has_access
    @permission_name("assign")
    def take(self, ticket_id):
        """« Me l'attribuer »: the agent joins the ticket's assignees; nobody else leaves."""
        return self._answer(ticket_id, lambda ticket: tickets.take(g.user, ticket), _("Ticket attribué à vous."))

    @expose("/<int:ticket_id>/fields", methods=["POST"])
    @has_access
    @permission_name("work")
    def fields(self, ticket_id):
        """One inline control saved at once: {"field": "status"|"priority"|"queue"|"assignees", "value": …}."""
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or data.get("field") not in ("status", "priority", "queue", "assignees"):
            return jsonify({"error": _("Requête invalide.")}), 400
        field, value = data["field"], data.get("value")
        if field == "assignees" and not (isinstance(value, list) and all(isinstance(v, (int, str)) for v in value)):
            return jsonify({"error": _("Requête invalide.")}), 400
        if field != "assignees" and not isinstance(value, (int, str)):
            return jsonify({"error": _("Requête invalide.")}), 400
        done = {
            "status": _("Statut mis à jour."), "priority": _("Priorité mise à jour."),
            "queue": _("File mise à jour."), "assignees": _("Attribution mise à jour."),
        }[field]
        keyword = "assignee_ids" if field == "assignees" else f"{field}_id"
        return self._answer(ticket_id, lambda t: tickets.update_fields(g.user, t, **{keyword: value}), done)

    @expose("/<int:ticket_id>/send", methods=["POST"])
    @has_access
    @permission_name("reply")
    def send(self, ticket_id):
        """The composer: a reply or an internal note, and optionally the status that follows
        (« Envoyer et mettre en attente », « Envoyer et résoudre »), in one transaction."""
        form = request.form
        then = form.get("then", "")
        if then not in SEND_THEN:
            return jsonify({"error": _("Requête invalide.")}), 400
        internal = form.get("internal") == "1"
        files = [(f.filename, f.stream) for f in request.files.getlist("attachments") if f and f.filename]

        def action(ticket):
            tickets.add_message_then(g.user, ticket, form.get("body"), internal=internal, files=files, then=SEND_THEN[then])

        done = _("Note interne ajoutée.") if internal else {
            "": _("Réponse envoyée."), "pending": _("Réponse envoyée, ticket en attente du client."), "resolved": _("Réponse envoyée, ticket résolu."),
        }[then]
        return self._answer(ticket_id, action, done)

