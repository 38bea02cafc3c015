"""Live chat's pages: what partners embed (the loader at /widget.js, the chat frame, file
upload and download for the widget, the demo partner page) and the support's screens (the
console, conversation history, widget channels). The live part goes over Socket.IO
(app/realtime/); these adapters call the same service, app/services/chat.py."""
import json
import time

from flask import Blueprint, abort, current_app, g, jsonify, make_response, render_template, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.extensions import csrf, db
from app.models import ChatChannel, ChatConversation, ChatFile, NovaUser, Queue
from app.security import scopes
from app.services import ServiceError, chat, tickets
from app.services.chat import conversation_payload, file_signature, message_payload
from app.views.downloads import send_stored_file
from app.views.generated import NovaModelView
from app.views.scoping import scoped
from app.web.origins import own_origin, page_origin

WIDGET_BUILD = "widget"  # app/static/widget/: built from widget/ (npm run build)
DEMO_CHANNEL_KEY = chat.DEMO_CHANNEL_KEY

chat_public = Blueprint("chat_public", __name__)


def _frame_ancestors(channel):
    return " ".join(chat.channel_origins(channel)) or "'none'"


@chat_public.route("/widget.js")
def loader():
    """The snippet's script: a small loader that puts the chat frame on the partner's page."""
    response = current_app.send_static_file(f"{WIDGET_BUILD}/loader.js")
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"  # not versioned: a short cache
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@chat_public.route("/widget/frame/<public_key>")
def frame(public_key):
    """The chat itself, in a frame served by NovaDesk: the host page's styles and scripts
    cannot reach it; only the partner's declared origins may embed it."""
    try:
        channel = chat.channel_for_key(public_key)
    except ServiceError:
        abort(404)
    origin = page_origin()
    if origin is not None and not chat.origin_accepted(channel, origin, own_origin()):
        abort(403)  # loaded from a page elsewhere (frame-ancestors would also stop the browser)
    lang = request.args.get("lang", "fr")[:2]
    lang = lang if lang in ("fr", "en") else "fr"
    with force_locale(lang):
        html = render_template("chat/frame.html", channel=channel, lang=lang, origins=json.dumps(chat.channel_origins(channel)))
    response = make_response(html)
    nonce = g.csp_nonce
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {_frame_ancestors(channel)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _conversation_from_token():
    token = request.headers.get("X-Conversation-Token") or request.form.get("token")
    try:
        channel = chat.channel_for_key(request.headers.get("X-Channel") or request.form.get("channel"))
    except ServiceError:
        abort(404)
    if not chat.origin_accepted(channel, page_origin(), own_origin()):
        abort(403)  # not sent by the chat frame, nor by a page the partner declared
    conversation = chat.conversation_for_token(channel, token)
    if conversation is None:
        abort(404)
    return conversation


@chat_public.route("/widget/upload", methods=["POST"])
@csrf.exempt  # authenticated by the conversation's token, never by a cookie
def widget_upload():
    """A visitor's file: checked like ticket attachments, then sent as a message by the widget;
    with the message's own id (`client_id`), sent as the visitor's message at once."""
    conversation = _conversation_from_token()
    client_id = request.form.get("client_id")
    if not client_id:
        return _store_upload(conversation)
    upload = request.files.get("file")
    if upload is None:
        return jsonify({"error": _("Aucun fichier reçu.")}), 400
    try:
        chat_file, message = chat.send_visitor_file(conversation, upload.filename, upload.stream, client_id)
        payload = message_payload(message)
        db.session.commit()
    except ServiceError as refused:
        db.session.rollback()
        return jsonify({"error": refused.message}), 404 if refused.not_found else 422
    return jsonify({"file_id": chat_file.id, "name": chat_file.filename, "message": payload})


def _store_upload(conversation, agent=None):
    """A file for a conversation, from either side; the sender then sends it as a message."""
    upload = request.files.get("file")
    if upload is None:
        return jsonify({"error": _("Aucun fichier reçu.")}), 400
    try:
        chat_file = chat.store_file(conversation, upload.filename, upload.stream, agent=agent)
        db.session.commit()
    except ServiceError as refused:
        db.session.rollback()
        return jsonify({"error": refused.message}), 422
    return jsonify({"file_id": chat_file.id, "name": chat_file.filename})


@chat_public.route("/widget/files/<int:file_id>/<signature>")
def chat_file(file_id, signature):
    """A conversation's file, by the link in its message (which only its participants have)."""
    item = db.session.get(ChatFile, file_id)
    if item is None or not _same_signature(file_signature(item.conversation_id, item.id), signature):
        abort(404)
    return _send_chat_file(item)


def _same_signature(expected, given):
    import hmac

    return hmac.compare_digest(expected.encode(), str(given).encode())


def _send_chat_file(item):
    inline = item.is_image and request.args.get("download") != "1"
    response = send_stored_file(item, as_attachment=not inline)
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@chat_public.route("/demo/partner")
def demo_partner():
    """A page standing for NOVA LEAD's software at a partner, with the snippet and a signed
    identity — of a demonstration person, never of a real account. Demo mode only."""
    if not current_app.config.get("DEMO_MODE"):
        abort(404)
    channel = chat.demo_channel()
    if channel is None:
        abort(404)
    identity = None
    if request.args.get("anonymous") != "1":
        expires = int(time.time()) + 3600
        person = chat.DEMO_VISITOR
        identity = {
            **person,
            "organisation": channel.organisation.name,
            "expires": expires,
            "signature": chat.sign_identity(channel.secret, person["id"], person["email"], expires, person["name"]),
        }
    lang = "en" if request.args.get("lang") == "en" else "fr"
    response = make_response(render_template("chat/demo_partner.html", channel=channel, identity=identity, lang=lang))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{g.csp_nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
    return response


# --- the support's side -----------------------------------------------------------------


class ChatConsoleView(BaseView):
    """The console (C2): live lists and the conversation; actions that end in a ticket go
    through these routes, the rest over Socket.IO."""

    route_base = "/chat"
    class_permission_name = "Chat"
    method_permission_name = {"console": "console", "context": "console", "transcript": "console", "file": "console", "to_ticket": "answer", "attach": "answer", "upload": "answer", "articles": "answer"}
    default_view = "console"

    @expose("/console")
    @has_access
    def console(self):
        user = g.user
        staff = scopes.answers_chats(user)
        agents = db.session.query(NovaUser).filter(NovaUser.active.is_(True)).order_by(NovaUser.first_name).all() if staff else []
        canned = [
            {"title": c.title, "body": c.body.replace("{agent}", user.full_name)}
            for c in tickets.active_canned_responses()
        ] if staff else []
        return self.render_template(
            "chat/console.html",
            agents=[{"id": a.id, "name": a.full_name} for a in agents if scopes.answers_chats(a) and a.id != user.id],
            queues=db.session.query(Queue).filter_by(active=True).order_by(Queue.support_level).all() if staff else [],
            canned=canned,
            staff=staff,
        )

    def _conversation(self, conversation_id):
        try:
            return chat.access_conversation(g.user, conversation_id)
        except ServiceError:
            abort(404)

    @expose("/conversations/<int:conversation_id>/context")
    @has_access
    def context(self, conversation_id):
        conversation = self._conversation(conversation_id)
        context = chat.context_for(g.user, conversation)
        return jsonify(
            {
                "conversation": conversation_payload(conversation),
                "organisation": {"name": conversation.organisation.name, "url": url_for("OrganisationView.show", pk=conversation.organisation_id)},
                "open_tickets": [{"number": t.number, "title": t.title, "status": t.status.name, "url": url_for("TicketDeskView.show", ticket_id=t.id)} for t in context["open_tickets"]],
                "past_conversations": [
                    {"id": c.id, "started_on": c.started_on.isoformat(), "status": c.status, "url": url_for("ChatConsoleView.transcript", conversation_id=c.id)}
                    for c in context["past_conversations"]
                ],
            }
        )

    @expose("/conversations/<int:conversation_id>")
    @has_access
    def transcript(self, conversation_id):
        conversation = self._conversation(conversation_id)
        messages = chat.messages_after(conversation, 0, limit=10000)
        return self.render_template("chat/transcript.html", conversation=conversation, messages=messages, signature=file_signature)

    @expose("/conversations/<int:conversation_id>/ticket", methods=["POST"])
    @has_access
    def to_ticket(self, conversation_id):
        conversation = self._conversation(conversation_id)
        return self._ticket_action(conversation, lambda: chat.to_ticket(g.user, conversation, request.form.get("title")))

    @expose("/conversations/<int:conversation_id>/attach", methods=["POST"])
    @has_access
    def attach(self, conversation_id):
        conversation = self._conversation(conversation_id)
        return self._ticket_action(conversation, lambda: chat.attach_to_ticket(g.user, conversation, request.form.get("ticket")))

    def _ticket_action(self, conversation, act):
        try:
            ticket, _message = act()
            db.session.commit()  # the note and the new state go to both sides with it
        except ServiceError as refused:
            db.session.rollback()
            if refused.not_found:
                abort(404)
            return jsonify({"error": refused.message}), 422
        return jsonify({"ok": True, "ticket": ticket.number, "url": url_for("TicketDeskView.show", ticket_id=ticket.id)})

    @expose("/conversations/<int:conversation_id>/upload", methods=["POST"])
    @has_access
    def upload(self, conversation_id):
        return _store_upload(self._conversation(conversation_id), agent=g.user)

    @expose("/conversations/<int:conversation_id>/articles")
    @has_access
    def articles(self, conversation_id):
        """Knowledge-base links for a reply: only what the visitor may read."""
        found = chat.articles_for_reply(self._conversation(conversation_id), request.args.get("q"))
        return jsonify({"articles": [{"title": a.title, "url": url_for("help.article", article_id=a.id, slug=a.slug, _external=True)} for a in found]})


def _conversation_link(conversation_id):
    return Markup('<a href="%s">%s</a>') % (url_for("ChatConsoleView.transcript", conversation_id=conversation_id), _("Conversation n° %(n)s", n=conversation_id))


class ChatConversationView(NovaModelView):
    """Past and current conversations, for the support and (their clients') commercials."""

    datamodel = SQLAInterface(ChatConversation)
    class_permission_name = "ChatConversations"
    route_base = "/chat/history"
    include_route_methods = {"list"}
    base_filters = scoped("conversations")
    base_order = ("started_on", "desc")
    list_title = _l("Conversations en direct")
    label_columns = {
        "id": _l("Conversation"),
        "started_on": _l("Commencée le"),
        "organisation": _l("Organisation"),
        "visitor_label": _l("Visiteur"),
        "visitor_email": _l("E-mail du visiteur"),
        "agent": _l("Agent"),
        "status_label": _l("État"),
        "status": _l("État"),
        "rating": _l("Note"),
        "ticket": _l("Ticket"),
    }
    list_columns = ["id", "started_on", "organisation", "visitor_label", "agent", "status_label", "rating", "ticket"]
    search_columns = ["organisation", "status", "visitor_email", "started_on", "agent", "rating"]
    formatters_columns = {"id": _conversation_link, "started_on": lambda value: value and value.strftime("%d/%m/%Y %H:%M")}


class ChatChannelView(NovaModelView):
    """Widget channels (C5): one per partner installation, with its origins and secret."""

    datamodel = SQLAInterface(ChatChannel)
    class_permission_name = "ChatChannels"
    route_base = "/chat/channels"
    include_route_methods = {"list", "show", "add", "edit", "action_post", "install"}
    list_title = _l("Canaux de discussion (widget)")
    add_title = edit_title = show_title = _l("Canal de discussion")
    label_columns = {
        "name": _l("Nom"),
        "organisation": _l("Organisation partenaire"),
        "public_key": _l("Clé publique"),
        "allowed_origins": _l("Origines autorisées"),
        "allow_anonymous": _l("Visiteurs anonymes acceptés"),
        "active": _l("Actif"),
        "created_on": _l("Créé le"),
        "snippet": _l("À coller dans le logiciel du partenaire"),
    }
    description_columns = {
        "allowed_origins": _l("Une origine par ligne, par exemple https://app.partenaire.example — le widget ne s'affiche que sur ces sites."),
        "allow_anonymous": _l("Sinon, seuls les utilisateurs dont le logiciel du partenaire signe l'identité peuvent discuter."),
    }
    list_columns = ["name", "organisation", "allow_anonymous", "active", "created_on"]
    add_columns = edit_columns = ["name", "organisation", "allowed_origins", "allow_anonymous", "active"]
    show_columns = ["name", "organisation", "public_key", "allowed_origins", "allow_anonymous", "active", "created_on"]
    formatters_columns = {"public_key": lambda key: Markup('<code>%s</code> — <a href="%s">%s</a>') % (key, url_for("ChatChannelView.install", public_key=key), _("Code à installer et secret"))}

    @expose("/install/<public_key>")
    @has_access
    @permission_name("show")
    def install(self, public_key):
        """What the partner's developers need: the snippet, the secret, how to sign."""
        channel = db.session.query(ChatChannel).filter_by(public_key=public_key).one_or_none()
        if channel is None:
            abort(404)
        return self.render_template("chat/install.html", channel=channel, loader_url=url_for("chat_public.loader", _external=True))

    def pre_add(self, item):
        item.public_key, item.secret = chat.new_channel_keys()
        self._check_origins(item)

    def pre_update(self, item):
        self._check_origins(item)

    @staticmethod
    def _check_origins(item):
        item.allowed_origins = "\n".join(chat.clean_origins(item.allowed_origins))
