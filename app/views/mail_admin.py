"""Admin screens of the e-mail channel: IMAP mailboxes, messages received (with those kept
aside or unprocessable, and the raw original), and the outbox with its failures."""
from flask import Response, abort, flash, g, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import PasswordField, SelectField

from app.extensions import db
from app.formatting import datetime_formatters, file_size, yes_no_formatters
from app.models import InboundMail, Mailbox, MailboxSecurity, OutboxMail
from app.services import ServiceError, mailboxes
from app.views.generated import NovaModelView


def _as_list(items):
    return items if isinstance(items, list) else [items]


def _ticket_link(ticket):
    if ticket is None:
        return "—"
    return Markup('<a href="{}">{}</a>').format(url_for("TicketDeskView.show", ticket_id=ticket.id), ticket.number)


def original_mail_response(mail):
    """The raw message as a download (never rendered: it may hold anything)."""
    return Response(
        mail.raw,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="message-{mail.id}.eml"', "X-Content-Type-Options": "nosniff"},
    )


def _or_dash(value):
    return value if value else "—"


class MailboxView(NovaModelView):
    datamodel = SQLAInterface(Mailbox)
    class_permission_name = "Mailboxes"
    route_base = "/mail/mailboxes"
    include_route_methods = {"list", "show", "add", "edit", "delete", "action_post"}
    list_title = _l("Boîtes de réception (IMAP)")
    add_title = edit_title = show_title = _l("Boîte de réception")
    label_columns = {
        "name": _l("Nom"),
        "address": _l("Adresse e-mail de la boîte"),
        "host": _l("Serveur IMAP"),
        "port": _l("Port"),
        "security": _l("Chiffrement"),
        "username": _l("Identifiant"),
        "password": _l("Mot de passe"),
        "folder": _l("Dossier"),
        "active": _l("Relevée"),
        "last_checked_on": _l("Dernière relève"),
        "last_error": _l("Dernière erreur"),
        "last_uid": _l("Dernier message lu (UID)"),
    }
    description_columns = {
        "address": _l("Les réponses des clients sont demandées à cette adresse ; le courrier qui en vient n'est jamais traité comme une demande."),
        "folder": _l("Le plus souvent INBOX. Les messages lus sont marqués comme lus et restent sur le serveur."),
    }
    list_columns = ["name", "address", "host", "active", "last_checked_on", "last_error"]
    show_columns = ["name", "address", "host", "port", "security", "username", "folder", "active", "last_checked_on", "last_uid", "last_error"]
    add_columns = ["name", "address", "host", "port", "security", "username", "password", "folder", "active"]
    edit_columns = add_columns
    add_form_extra_fields = edit_form_extra_fields = {
        "security": SelectField(_l("Chiffrement"), choices=[(k, v) for k, v in MailboxSecurity.LABELS.items()], default=MailboxSecurity.SSL),
        "password": PasswordField(_l("Mot de passe")),
    }
    formatters_columns = {**datetime_formatters("last_checked_on"), **yes_no_formatters("active")}

    def pre_add(self, item):
        mailboxes.check_mailbox(item)

    def pre_update(self, item):
        mailboxes.check_mailbox(item)

    def prefill_form(self, form, pk):
        form.password.data = ""  # never sent back to the browser

    def process_form(self, form, is_created):
        if not is_created and not form.password.data:
            del form.password  # left empty on edit: keep the stored password

    @action("test", _l("Tester la connexion"), None, "fa-plug", multiple=False)
    def test(self, item):
        try:
            count = mailboxes.test_mailbox(_as_list(item)[0])
        except ServiceError as error:
            flash(error.message, "danger")
        else:
            flash(_("Connexion réussie : %(n)s message(s) dans le dossier.", n=count), "success")
        return redirect(self.get_redirect())


class InboundMailView(NovaModelView):
    datamodel = SQLAInterface(InboundMail)
    class_permission_name = "InboundMail"
    route_base = "/mail/received"
    include_route_methods = {"list", "show", "action_post", "raw"}
    list_title = _l("Messages reçus")
    show_title = _l("Message reçu")
    label_columns = {
        "received_on": _l("Reçu le"),
        "sender": _l("Expéditeur"),
        "subject": _l("Objet"),
        "status_label": _l("État"),
        "status": _l("État"),
        "outcome": _l("Résultat"),
        "error": _l("Erreur"),
        "ticket": _l("Ticket"),
        "source": _l("Source"),
        "message_id": _l("Message-ID"),
        "size": _l("Taille"),
        "attempts": _l("Traitements"),
        "processed_on": _l("Traité le"),
        "reason": _l("Motif"),
    }
    list_columns = ["received_on", "sender", "subject", "status_label", "outcome", "ticket"]
    show_columns = ["received_on", "sender", "subject", "status_label", "outcome", "ticket", "source", "message_id", "size", "attempts", "processed_on", "error"]
    search_columns = ["status", "sender", "subject", "received_on", "reason"]
    base_order = ("received_on", "desc")
    page_size = 50
    formatters_columns = {**datetime_formatters("received_on", "processed_on"), "size": file_size, "ticket": _ticket_link, "error": _or_dash}
    show_template = "novadesk/inbound_mail_show.html"

    @action("retry", _l("Traiter à nouveau"), _l("Remettre les messages sélectionnés en traitement ?"), "fa-rotate-right")
    def retry(self, items):
        done = mailboxes.retry_inbound(g.user, _as_list(items))
        db.session.commit()
        flash(_("%(n)s message(s) remis en traitement.", n=done) if done else _("Seuls les messages écartés ou non traitables peuvent être traités à nouveau."), "success" if done else "warning")
        return redirect(self.get_redirect())

    @expose("/<int:pk>/raw")
    @has_access
    @permission_name("show")
    def raw(self, pk):
        message = db.session.get(InboundMail, pk)
        if message is None:
            abort(404)
        return original_mail_response(message)


class OutboxView(NovaModelView):
    datamodel = SQLAInterface(OutboxMail)
    class_permission_name = "Outbox"
    route_base = "/mail/outbox"
    include_route_methods = {"list", "show", "action_post"}
    list_title = _l("File d'envoi")
    show_title = _l("Message envoyé")
    label_columns = {
        "created_on": _l("Créé le"),
        "recipient": _l("Destinataire"),
        "subject": _l("Objet"),
        "kind": _l("Type"),
        "status_label": _l("État"),
        "status": _l("État"),
        "attempts": _l("Tentatives"),
        "last_error": _l("Dernière erreur"),
        "next_attempt_on": _l("Prochaine tentative"),
        "sent_on": _l("Envoyé le"),
        "bounced_on": _l("Non remis le"),
        "bounce_reason": _l("Motif de non-remise"),
        "message_id": _l("Message-ID"),
        "screen_subject": _l("Objet"),
        "screen_body": _l("Texte"),
    }
    list_columns = ["created_on", "recipient", "screen_subject", "status_label", "attempts", "last_error", "sent_on", "bounced_on"]
    show_columns = ["created_on", "recipient", "screen_subject", "kind", "status_label", "attempts", "next_attempt_on", "last_error", "sent_on", "bounced_on", "bounce_reason", "message_id", "screen_body"]
    search_columns = ["status", "recipient", "kind", "created_on"]  # not the subject: it holds codes
    base_order = ("created_on", "desc")
    page_size = 50
    formatters_columns = {**datetime_formatters("created_on", "next_attempt_on", "sent_on", "bounced_on"), "last_error": _or_dash, "bounce_reason": _or_dash}

    @action("retry", _l("Renvoyer"), _l("Renvoyer les messages sélectionnés (en échec ou en attente) ?"), "fa-paper-plane")
    def retry(self, items):
        done = mailboxes.retry_outbox(g.user, _as_list(items))
        db.session.commit()
        flash(_("%(n)s message(s) seront envoyés au prochain passage.", n=done) if done else _("Seuls les messages en échec ou en attente peuvent être renvoyés."), "success" if done else "warning")
        return redirect(self.get_redirect())
