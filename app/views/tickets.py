"""The ticket desk's pages (T2–T9, T14): list, new ticket, ticket page and its actions,
attachment downloads. Thin: parse the form, call app/services/tickets/, commit, render."""
from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    Channel,
    NovaUser,
    Priority,
    Product,
    Queue,
    RequestType,
    Ticket,
)
from app.security import scopes
from app.security.ticket_queries import PAGE_SIZE, TicketFilters, category_counts, ticket_page, view_total
from app.services import ServiceError, kb, satisfaction, sla, ticket_links, tickets, uploads
from app.services.ticket_config import CATEGORY_LABELS
from app.views.downloads import send_stored_file
from app.views.labels import CHANNEL_LABELS
from app.views.mail_admin import original_mail_response
from app.views.outcome import commit_or_refuse
from app.views.satisfaction import score_labels
from app.views.ticket_workspace import TicketWorkspaceMixin, ticket_context


def _files():
    return [(f.filename, f.stream) for f in request.files.getlist("attachments") if f and f.filename]


class TicketDeskView(TicketWorkspaceMixin, BaseView):
    route_base = "/tickets"
    class_permission_name = "Tickets"
    default_view = "index"

    # --- the list ---------------------------------------------------------------------

    def _list_context(self):
        user = g.user
        filters = TicketFilters.from_args(request.args)
        counts = category_counts(user, filters)
        total = view_total(filters, counts)
        return {
            "filters": filters,
            "rows": ticket_page(user, filters),
            "total": total,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "counts": counts,
            "category_labels": CATEGORY_LABELS,
            "is_late": sla.is_late,
            "working": tickets.can_work(user),
            "ticket_url": url_for(".index"),
        }

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        user = g.user
        if tickets.can_work(user):
            return self.workspace()
        context = self._list_context()
        choices = {
            "priorities": db.session.query(Priority).order_by(Priority.position).all(),
            "types": db.session.query(RequestType).order_by(RequestType.position).all(),
            "organisations": scopes.ticket_filter_organisations(db.session, user),
            "queues": db.session.query(Queue).order_by(Queue.support_level).all() if context["working"] else [],
            "agents": tickets.staff_members() if context["working"] else [],
        }
        return self.render_template("tickets/list.html", title=_("Tickets"), **context, **choices)

    @expose("/rows")
    @has_access
    @permission_name("list")
    def rows(self):
        """The table body and counts alone, for the page's refresh without reload."""
        return self.render_template("tickets/_rows.html", **self._list_context())

    # --- new ticket (T2) ------------------------------------------------------------------

    @expose("/new", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def new(self):
        user = g.user
        working = tickets.can_work(user)
        form = request.form
        if request.method == "POST":
            try:
                ticket = tickets.create_ticket(
                    user,
                    title=form.get("title"),
                    body=form.get("body"),
                    type_id=form.get("type"),
                    product_id=form.get("product"),
                    organisation_id=form.get("organisation"),
                    requester_id=form.get("requester"),
                    priority_id=form.get("priority"),
                    channel=form.get("channel", Channel.WEB),
                    internal_note=form.get("internal_note"),
                    assignee_ids=form.getlist("assignees"),
                    queue_id=form.get("queue"),
                    files=_files(),
                )
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                kb.ticket_filed_after_suggestions(user, form.get("suggestion_token"), ticket)
                db.session.commit()
                flash(_("Ticket %(number)s créé.", number=ticket.number), "success")
                return redirect(url_for(".show", ticket_id=ticket.id))
        organisations = scopes.client_organisations(db.session, user, active_only=True)
        requesters = (
            db.session.query(NovaUser).filter(NovaUser.organisation_id.in_([o.id for o in organisations]), NovaUser.active.is_(True)).order_by(NovaUser.last_name).all()
            if working else []
        )
        return self.render_template(
            "tickets/new.html",
            title=_("Nouvelle demande"),
            form=form,
            working=working,
            assigning=tickets.can_assign_at_creation(user),
            organisations=organisations,
            requesters=requesters,
            types=db.session.query(RequestType).filter_by(active=True).order_by(RequestType.position).all(),
            products=db.session.query(Product).filter_by(active=True).order_by(Product.name).all(),
            priorities=db.session.query(Priority).order_by(Priority.position).all(),
            channels=CHANNEL_LABELS,
            agents=tickets.staff_members() if working else [],
            queues=db.session.query(Queue).filter_by(active=True).order_by(Queue.support_level).all(),
            canned=tickets.active_canned_responses() if working else [],
            max_mb=current_app.config["MAX_ATTACHMENT_MB"],
        )

    # --- the ticket page ----------------------------------------------------------------

    def _ticket(self, ticket_id):
        try:
            return tickets.access_ticket(g.user, ticket_id)
        except tickets.TicketNotFound:
            abort(404)

    @expose("/<int:ticket_id>")
    @has_access
    @permission_name("show")
    def show(self, ticket_id):
        user = g.user
        ticket = self._ticket(ticket_id)
        if tickets.can_work(user):
            return self.workspace(ticket)
        # Partners keep the simpler ticket page, without the support's controls.
        return self.render_template(
            "tickets/show.html",
            title=f"{ticket.number} — {ticket.title}",
            **ticket_context(user, ticket),
            drafting=False,
            canned=[],
            related=[t for t in ticket_links.related_tickets(ticket) if t.organisation_id == ticket.organisation_id],
            children=db.session.query(Ticket).filter(Ticket.parent_id == ticket.id, scopes.tickets_filter(user)).all(),
            can_rate=satisfaction.can_rate(user, ticket),
            scores=score_labels(),
            identify_choices=[],
            other_unattached=0,
        )

    def _act(self, ticket_id, action, success):
        ticket = self._ticket(ticket_id)
        try:
            commit_or_refuse(lambda: action(ticket), success)
        except ServiceError:  # only "not found" refusals come back out
            abort(404)
        return redirect(url_for(".show", ticket_id=ticket_id))

    @expose("/<int:ticket_id>/reply", methods=["POST"])
    @has_access
    @permission_name("reply")
    def reply(self, ticket_id):
        internal = request.form.get("internal") == "1"
        done = _("Note interne ajoutée.") if internal else _("Réponse envoyée.")
        return self._act(ticket_id, lambda t: tickets.add_message(g.user, t, request.form.get("body"), internal=internal, files=_files()), done)

    @expose("/<int:ticket_id>/status", methods=["POST"])
    @has_access
    @permission_name("status")
    def status(self, ticket_id):
        return self._act(ticket_id, lambda t: tickets.update_fields(g.user, t, status_id=request.form.get("status", "")), _("Statut mis à jour."))

    @expose("/<int:ticket_id>/rate", methods=["POST"])
    @has_access
    @permission_name("rate")
    def rate(self, ticket_id):
        action = lambda t: satisfaction.rate_ticket(g.user, t, request.form.get("score"), request.form.get("comment"))  # noqa: E731
        return self._act(ticket_id, action, _("Merci pour votre avis."))

    @expose("/<int:ticket_id>/priority", methods=["POST"])
    @has_access
    @permission_name("work")
    def priority(self, ticket_id):
        return self._act(ticket_id, lambda t: tickets.update_fields(g.user, t, priority_id=request.form.get("priority", "")), _("Priorité mise à jour."))

    @expose("/<int:ticket_id>/assign", methods=["POST"])
    @has_access
    @permission_name("assign")
    def assign(self, ticket_id):
        action = lambda t: tickets.update_fields(g.user, t, assignee_ids=request.form.getlist("assignees"), queue_id=request.form.get("queue"))  # noqa: E731
        return self._act(ticket_id, action, _("Attribution mise à jour."))

    @expose("/<int:ticket_id>/identify", methods=["POST"])
    @has_access
    @permission_name("work")
    def identify(self, ticket_id):
        include_others = request.form.get("include_others") == "1"
        action = lambda t: tickets.identify_requester(g.user, t, request.form.get("organisation"), include_others)  # noqa: E731
        return self._act(ticket_id, action, _("Expéditeur rattaché au client."))

    @expose("/messages/<int:message_id>/original")
    @has_access
    @permission_name("work")
    def original_mail(self, message_id):
        try:
            mail = scopes.access_source_mail(db.session, g.user, message_id)
        except scopes.NotVisible:
            abort(404)
        return original_mail_response(mail)

    @expose("/<int:ticket_id>/escalate", methods=["POST"])
    @has_access
    @permission_name("assign")
    def escalate(self, ticket_id):
        return self._act(ticket_id, lambda t: tickets.escalate(g.user, t), _("Ticket escaladé au niveau supérieur."))

    @expose("/<int:ticket_id>/link", methods=["POST"])
    @has_access
    @permission_name("work")
    def link(self, ticket_id):
        kind, other = request.form.get("kind"), request.form.get("other")
        actions = {
            "related": (lambda t: ticket_links.link_related(g.user, t, other), _("Tickets liés.")),
            "parent": (lambda t: ticket_links.set_parent(g.user, t, other), _("Ticket rattaché comme sous-demande.")),
            "merge": (lambda t: ticket_links.merge(g.user, t, other), _("Ticket fusionné.")),
        }
        if kind not in actions:
            abort(400)
        return self._act(ticket_id, *actions[kind])

    # --- attachments (T3): only through the ticket's scope and the message's visibility ---

    def _attachment(self, attachment_id):
        try:
            return scopes.access_attachment(db.session, g.user, attachment_id)
        except scopes.NotVisible:
            abort(404)

    @expose("/attachments/<int:attachment_id>")
    @has_access
    @permission_name("show")
    def attachment(self, attachment_id):
        item = self._attachment(attachment_id)
        inline = item.is_image and request.args.get("download") != "1"
        return send_stored_file(item, as_attachment=not inline)

    @expose("/attachments/<int:attachment_id>/preview")
    @has_access
    @permission_name("show")
    def preview(self, attachment_id):
        item = self._attachment(attachment_id)
        if not item.preview_key:
            abort(404)
        stream = uploads.open_stored(current_app.config["UPLOAD_FOLDER"], item.preview_key)
        mimetype = "image/png" if item.preview_key.endswith(".png") else "image/jpeg"
        response = send_file(stream, mimetype=mimetype, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response


