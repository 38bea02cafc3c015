"""Admin screens of the webhooks: subscriptions (URL, events, secret) and the delivery log
with "Renvoyer"."""
from flask import flash, g, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.formatting import datetime_formatters, yes_no_formatters
from app.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from app.services import webhooks
from app.views.generated import NovaModelView


def _as_list(items):
    return items if isinstance(items, list) else [items]


def _event_names(events):
    return ", ".join(str(webhooks.EVENT_LABELS.get(e, e)) for e in events or [])


def _secret(secret):
    return Markup('<code class="nd-secret">{}</code>').format(escape(secret or ""))


class WebhookSubscriptionView(NovaModelView):
    datamodel = SQLAInterface(WebhookSubscription)
    class_permission_name = "Webhooks"
    route_base = "/webhooks"
    include_route_methods = {"list", "show", "add", "edit", "delete", "action_post"}
    list_title = _l("Webhooks")
    add_title = _l("Nouveau webhook")
    edit_title = _l("Modifier le webhook")
    show_title = _l("Webhook")
    label_columns = {
        "name": _l("Nom"),
        "url": _l("Adresse (URL) de réception"),
        "events": _l("Événements"),
        "secret": _l("Secret de signature"),
        "active": _l("Actif"),
        "created_on": _l("Créé le"),
    }
    description_columns = {
        "url": _l("Adresse http:// ou https:// qui recevra un POST JSON à chaque événement."),
        "events": _l("Les événements à envoyer à cette adresse."),
        "secret": _l("Chaque envoi porte l'en-tête X-NovaDesk-Signature : sha256=HMAC du corps avec ce secret. Gardez-le côté récepteur pour vérifier l'origine."),
    }
    list_columns = ["name", "url", "events", "active", "created_on"]
    show_columns = ["name", "url", "events", "active", "secret", "created_on"]
    add_columns = ["name", "url", "events", "active"]
    edit_columns = add_columns
    add_form_extra_fields = edit_form_extra_fields = {
        "name": StringField(_l("Nom"), validators=[DataRequired(), Length(max=120)]),
        "url": StringField(
            _l("Adresse (URL) de réception"),
            validators=[DataRequired(), Length(max=1000)],
            description=_l("Adresse http:// ou https:// qui recevra un POST JSON à chaque événement."),
        ),
        "events": SelectMultipleField(
            _l("Événements"),
            choices=[(e, webhooks.EVENT_LABELS[e]) for e in WebhookEvent.ALL],
            validators=[DataRequired()],
            widget=Select2ManyWidget(),
            description=_l("Les événements à envoyer à cette adresse."),
        ),
    }
    base_order = ("name", "asc")
    formatters_columns = {**datetime_formatters("created_on"), **yes_no_formatters("active"), "events": _event_names, "secret": _secret}

    def pre_add(self, item):
        webhooks.check_subscription(g.user, item, created=True)

    def pre_update(self, item):
        webhooks.check_subscription(g.user, item)

    @action("renew_secret", _l("Changer le secret"), _l("Changer le secret de signature ? Le récepteur devra utiliser le nouveau."), "fa-key", multiple=False)
    def renew_secret(self, item):
        webhooks.renew_secret(g.user, item)
        db.session.commit()
        flash(_("Nouveau secret enregistré : recopiez-le chez le récepteur."), "success")
        return redirect(self.get_redirect())


class WebhookDeliveryView(NovaModelView):
    datamodel = SQLAInterface(WebhookDelivery)
    class_permission_name = "WebhookDeliveries"
    route_base = "/webhooks/deliveries"
    include_route_methods = {"list", "show", "action_post"}
    list_title = _l("Envois des webhooks")
    show_title = _l("Envoi de webhook")
    label_columns = {
        "created_on": _l("Créé le"),
        "subscription": _l("Webhook"),
        "event": _l("Événement"),
        "event_id": _l("Identifiant de l'événement"),
        "ticket_id": _l("Ticket (id)"),
        "status": _l("État"),
        "attempts": _l("Tentatives"),
        "next_attempt_on": _l("Prochaine tentative"),
        "last_status_code": _l("Dernier code HTTP"),
        "last_error": _l("Dernière erreur"),
        "delivered_on": _l("Livré le"),
        "body": _l("Contenu envoyé"),
    }
    list_columns = ["created_on", "subscription", "event", "status", "attempts", "last_status_code", "delivered_on"]
    show_columns = ["created_on", "subscription", "event", "event_id", "ticket_id", "status", "attempts", "next_attempt_on", "last_status_code", "last_error", "delivered_on", "body"]
    search_columns = ["subscription", "event", "status", "ticket_id", "created_on"]
    base_order = ("id", "desc")
    page_size = 50
    formatters_columns = {
        **datetime_formatters("created_on", "next_attempt_on", "delivered_on"),
        "status": lambda s: webhooks.STATUS_LABELS.get(s, s),
        "event": lambda e: webhooks.EVENT_LABELS.get(e, e),
        "body": lambda b: Markup("<pre>{}</pre>").format(b),
    }

    @action("resend", _l("Renvoyer"), _l("Renvoyer les événements sélectionnés ?"), "fa-paper-plane")
    def resend(self, items):
        items = _as_list(items)
        webhooks.resend(g.user, items)
        db.session.commit()
        flash(_("%(n)s envoi(s) repartiront au prochain passage.", n=len(items)), "success")
        return redirect(self.get_redirect())
