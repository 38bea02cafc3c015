"""REST resources for tickets, their messages and attachments (T2–T7, T15).

Reads go through scopes.py (FAB base filters); writes through app/services/tickets/, the
same door as the web: POST /ticket/ creates (channel "api"), PUT /ticket/<id> changes status,
priority, queue or assignment (`tickets.update_fields`: all or nothing), POST /ticket_message/ replies or adds a note (staff and commercials).
"""
from flask import g, request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from marshmallow import Schema, ValidationError, fields, validate

from app.api.common import MAX_ID, READ_ROUTES, ScopedApi
from app.extensions import db
from app.models import Attachment, Channel, Ticket, TicketMessage
from app.security import scopes
from app.services import tickets
from app.web.downloads import send_stored_file
from app.web.scoping import scoped

_ID_RANGE = validate.Range(min=1, max=MAX_ID)
_id = lambda: fields.Integer(allow_none=True, validate=_ID_RANGE)  # noqa: E731


class TicketCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=tickets.TITLE_MAX))
    body = fields.String(required=True, validate=validate.Length(min=1, max=tickets.BODY_MAX))
    organisation_id = _id()  # partners: their organisation by default
    type_id = _id()
    product_id = _id()
    # Staff and commercials only (ignored for partners, as on the web form):
    requester_id = _id()
    priority_id = _id()
    internal_note = fields.String(allow_none=True, validate=validate.Length(max=tickets.BODY_MAX))
    # Admins and supervisors only:
    assignee_ids = fields.List(fields.Integer(validate=_ID_RANGE), validate=validate.Length(max=20))
    queue_id = _id()


class TicketUpdateSchema(Schema):
    status_id = _id()
    priority_id = _id()  # staff and commercials
    assignee_ids = fields.List(fields.Integer(validate=_ID_RANGE), validate=validate.Length(max=20))  # staff
    queue_id = _id()  # staff, with assignee_ids


class MessageCreateSchema(Schema):
    ticket_id = fields.Integer(required=True, validate=_ID_RANGE)
    body = fields.String(required=True, validate=validate.Length(min=1, max=tickets.BODY_MAX))
    internal = fields.Boolean(load_default=False)  # an internal note: staff and commercials only


def _load(schema):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError({"_schema": ["Le corps de la requête doit être un objet JSON."]})
    return schema.load(payload)


_TICKET_COLUMNS = [
    "id", "number", "title", "status_category", "status.id", "status.name", "priority.id", "priority.key", "priority.name",
    "type.id", "type.name", "product.id", "product.code", "channel", "organisation.id", "organisation.name",
    "requester.id", "requester.email", "requester_email", "created_on", "last_activity_on",
    "first_response_due", "resolution_due", "first_responded_on", "resolved_on", "closed_on",
]


class TicketApi(ScopedApi):
    resource_name = "ticket"
    class_permission_name = "TicketApi"
    datamodel = SQLAInterface(Ticket)
    base_filters = scoped("tickets")
    include_route_methods = READ_ROUTES | {"post", "put"}
    list_columns = _TICKET_COLUMNS
    show_columns = _TICKET_COLUMNS
    search_columns = ["number", "title", "status_category", "channel", "organisation", "status", "priority", "product", "type", "created_on", "last_activity_on"]
    order_columns = ["id", "number", "title", "created_on", "last_activity_on", "status_category", "resolution_due"]
    base_order = ("id", "desc")
    add_model_schema = TicketCreateSchema()
    edit_model_schema = TicketUpdateSchema()

    def post_headless(self):
        try:
            data = _load(self.add_model_schema)
        except ValidationError as error:
            return self.response_422(message=error.messages)
        return self.run_service(lambda: tickets.create_ticket(g.user, channel=Channel.API, **data), status=201, result=self.shown)

    def put_headless(self, pk):
        try:
            data = _load(self.edit_model_schema)
        except ValidationError as error:
            return self.response_422(message=error.messages)

        def change():
            ticket = tickets.access_ticket(g.user, pk)
            tickets.update_fields(
                g.user, ticket, status_id=data.get("status_id"), priority_id=data.get("priority_id"),
                queue_id=data.get("queue_id"), assignee_ids=data.get("assignee_ids"),
            )
            db.session.flush()
            return ticket

        return self.run_service(change, result=self.shown)


class TicketMessageApi(ScopedApi):
    resource_name = "ticket_message"
    class_permission_name = "TicketMessageApi"
    datamodel = SQLAInterface(TicketMessage)
    base_filters = scoped("ticket_messages")
    include_route_methods = READ_ROUTES | {"post"}
    list_columns = ["id", "ticket.id", "body", "internal", "channel", "created_on", "author.id", "author.first_name", "author.last_name", "author_email"]
    show_columns = list_columns
    search_columns = ["ticket", "internal", "channel", "created_on"]
    order_columns = ["id", "created_on"]
    base_order = ("id", "asc")
    add_model_schema = MessageCreateSchema()

    def post_headless(self):
        try:
            data = _load(self.add_model_schema)
        except ValidationError as error:
            return self.response_422(message=error.messages)

        def reply():
            ticket = tickets.access_ticket(g.user, data["ticket_id"])
            return tickets.add_message(g.user, ticket, data["body"], internal=data["internal"])

        return self.run_service(reply, status=201, result=self.shown)


class AttachmentApi(ScopedApi):
    resource_name = "attachment"
    class_permission_name = "AttachmentApi"
    datamodel = SQLAInterface(Attachment)
    base_filters = scoped("attachments")
    include_route_methods = READ_ROUTES | {"download"}
    list_columns = ["id", "ticket.id", "message.id", "filename", "content_type", "size", "sha256", "is_image", "width", "height", "created_on"]
    show_columns = list_columns
    search_columns = ["ticket", "message", "filename", "content_type", "is_image"]
    order_columns = ["id", "created_on", "filename", "size"]
    base_order = ("id", "asc")

    @expose("/<int:pk>/download", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def download(self, pk):
        """The attachment's file, as stored after its checks
        ---
        get:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The file
              content:
                application/octet-stream:
                  schema:
                    type: string
                    format: binary
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        try:
            item = scopes.access_attachment(db.session, g.user, pk)
        except scopes.NotVisible:
            return self.response_404()
        return send_stored_file(item, as_attachment=True)
