"""Admin screens for the desk's reference data (T1, T4, T5, T8, T12): FAB-generated, with
the rules (status still used, calendar hours valid) checked before anything is written."""
import json

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, TextAreaField

from app.extensions import db
from app.formatting import business_duration, yes_no_formatters
from app.models import (
    BusinessCalendar,
    CannedResponse,
    EscalationRule,
    Holiday,
    Priority,
    Queue,
    RequestType,
    Routing,
    SlaDeadline,
    SlaStage,
    TicketStatus,
)
from app.models.tickets import StatusCategory
from app.services import sla_watch, ticket_config
from app.services.ticket_config import CATEGORY_LABELS
from app.views.generated import NovaModelView
from app.views.labels import ROUTING_LABELS, SLA_STAGE_LABELS


class _ConfigView(NovaModelView):
    include_route_methods = {"list", "show", "add", "edit", "delete"}
    formatters_columns = yes_no_formatters("active")


class RequestTypeView(_ConfigView):
    datamodel = SQLAInterface(RequestType)
    class_permission_name = "RequestTypes"
    route_base = "/config/request-types"
    list_title = _l("Types de demande")
    add_title = edit_title = show_title = _l("Type de demande")
    label_columns = {"name": _l("Nom"), "description": _l("Description"), "position": _l("Ordre"), "active": _l("Actif")}
    list_columns = ["name", "position", "active"]
    add_columns = edit_columns = show_columns = ["name", "description", "position", "active"]
    base_order = ("position", "asc")

    def pre_delete(self, item):
        ticket_config.check_type_removable(item)


class PriorityView(_ConfigView):
    datamodel = SQLAInterface(Priority)
    class_permission_name = "Priorities"
    route_base = "/config/priorities"
    include_route_methods = {"list", "show", "edit"}
    list_title = _l("Priorités et délais (SLA)")
    edit_title = show_title = _l("Priorité")
    label_columns = {"key": _l("Code"), "name": _l("Nom"), "position": _l("Ordre"), "first_response_minutes": _l("Première réponse (minutes ouvrées)"), "resolution_minutes": _l("Résolution (minutes ouvrées)")}
    description_columns = {"resolution_minutes": _l("Un jour ouvré du calendrier par défaut compte 480 minutes (8 h).")}
    list_columns = ["name", "first_response_minutes", "resolution_minutes"]
    formatters_columns = {"first_response_minutes": business_duration, "resolution_minutes": business_duration}
    edit_columns = show_columns = ["name", "position", "first_response_minutes", "resolution_minutes"]
    base_order = ("position", "asc")

    def pre_update(self, item):
        ticket_config.check_priority_targets(item)


class TicketStatusView(_ConfigView):
    datamodel = SQLAInterface(TicketStatus)
    class_permission_name = "TicketStatuses"
    route_base = "/config/statuses"
    list_title = _l("Statuts des tickets")
    add_title = edit_title = show_title = _l("Statut")
    label_columns = {"name": _l("Nom"), "category": _l("Étape"), "position": _l("Ordre"), "active": _l("Actif")}
    description_columns = {"category": _l("L'étape fixe sur laquelle s'appuie la logique : délais, retards, réouverture.")}
    list_columns = ["name", "category", "position", "active"]
    add_columns = edit_columns = show_columns = ["name", "category", "position", "active"]
    add_form_extra_fields = edit_form_extra_fields = {
        "category": SelectField(_l("Étape"), choices=[(c, CATEGORY_LABELS[c]) for c in StatusCategory.ORDER]),
    }
    formatters_columns = {**yes_no_formatters("active"), "category": lambda c: CATEGORY_LABELS.get(c, c)}
    base_order = ("position", "asc")

    def pre_update(self, item):
        ticket_config.apply_status_change(item)

    def pre_delete(self, item):
        ticket_config.check_status_removable(item)


class HolidayView(_ConfigView):
    datamodel = SQLAInterface(Holiday)
    class_permission_name = "BusinessCalendars"
    route_base = "/config/holidays"
    list_title = _l("Jours fériés")
    add_title = edit_title = show_title = _l("Jour férié")
    label_columns = {"calendar": _l("Calendrier"), "day": _l("Date"), "name": _l("Nom")}
    list_columns = ["day", "name", "calendar"]
    add_columns = edit_columns = show_columns = ["calendar", "day", "name"]
    base_order = ("day", "asc")
    formatters_columns = {}


class BusinessCalendarView(_ConfigView):
    datamodel = SQLAInterface(BusinessCalendar)
    class_permission_name = "BusinessCalendars"
    route_base = "/config/calendars"
    related_views = [HolidayView]
    list_title = _l("Heures ouvrées")
    add_title = edit_title = show_title = _l("Calendrier des heures ouvrées")
    label_columns = {"name": _l("Nom"), "timezone": _l("Fuseau horaire"), "week": _l("Horaires de la semaine"), "holidays": _l("Jours fériés")}
    description_columns = {
        "week": _l('Par jour (0 = lundi … 6 = dimanche), les plages d\'ouverture : {"0": [["08:00", "12:00"], ["13:00", "17:00"]], …}. Un jour absent est fermé.'),
    }
    list_columns = ["name", "timezone"]
    add_columns = edit_columns = ["name", "timezone", "week"]
    show_columns = ["name", "timezone", "week", "holidays"]
    add_form_extra_fields = edit_form_extra_fields = {"week": TextAreaField(_l("Horaires de la semaine"))}
    formatters_columns = {"week": lambda week: json.dumps(week, ensure_ascii=False)}

    def prefill_form(self, form, pk):
        item = db.session.get(BusinessCalendar, pk)
        form.week.data = json.dumps(item.week)

    def pre_add(self, item):
        ticket_config.check_calendar(item)

    pre_update = pre_add


class QueueView(_ConfigView):
    datamodel = SQLAInterface(Queue)
    class_permission_name = "Queues"
    route_base = "/config/queues"
    list_title = _l("Files et niveaux de support")
    add_title = edit_title = show_title = _l("File")
    label_columns = {"name": _l("Nom"), "support_level": _l("Niveau de support"), "routing": _l("Attribution"), "members": _l("Membres"), "active": _l("Active")}
    list_columns = ["name", "support_level", "routing", "active"]
    add_columns = edit_columns = show_columns = ["name", "support_level", "routing", "members", "active"]
    add_form_extra_fields = edit_form_extra_fields = {
        "routing": SelectField(_l("Attribution"), choices=[(key, ROUTING_LABELS[key]) for key in Routing.ALL]),
        "support_level": SelectField(_l("Niveau de support"), choices=[("1", "1"), ("2", "2"), ("3", "3")], coerce=int),
    }
    formatters_columns = {**yes_no_formatters("active"), "routing": lambda r: ROUTING_LABELS.get(r, r)}
    base_order = ("support_level", "asc")


class CannedResponseView(_ConfigView):
    datamodel = SQLAInterface(CannedResponse)
    class_permission_name = "CannedResponses"
    route_base = "/config/canned-responses"
    list_title = _l("Réponses prédéfinies")
    add_title = edit_title = show_title = _l("Réponse prédéfinie")
    label_columns = {"title": _l("Titre"), "body": _l("Texte"), "active": _l("Active")}
    description_columns = {"body": _l("Remplacés à l'insertion : {client}, {organisation}, {ticket}, {title}, {agent}.")}
    list_columns = ["title", "active"]
    add_columns = edit_columns = show_columns = ["title", "body", "active"]
    base_order = ("title", "asc")


class EscalationRuleView(_ConfigView):
    """What the SLA watch does when a deadline is near or passed (T13)."""

    datamodel = SQLAInterface(EscalationRule)
    class_permission_name = "EscalationRules"
    route_base = "/config/escalation-rules"
    list_title = _l("Règles d'escalade (SLA)")
    add_title = edit_title = show_title = _l("Règle d'escalade")
    label_columns = {
        "name": _l("Nom"), "active": _l("Active"), "position": _l("Ordre"), "stage": _l("Quand"),
        "deadline": _l("Délai concerné"), "priority": _l("Priorité concernée"), "raise_level": _l("Passer au niveau de support suivant"),
        "reassign_to": _l("Confier à"), "raise_priority": _l("Relever la priorité d'un cran"), "notify_commercial": _l("Prévenir le commercial du client"),
    }
    description_columns = {
        "priority": _l("Vide : toutes les priorités."),
        "reassign_to": _l("Un membre actif du support ; vide : personne de nouveau."),
        "stage": _l("Les personnes attribuées et les superviseurs sont prévenus dans tous les cas, à l'écran et par e-mail."),
    }
    list_columns = ["name", "stage", "deadline", "priority", "active"]
    add_columns = edit_columns = show_columns = [
        "name", "stage", "deadline", "priority", "raise_level", "reassign_to", "raise_priority", "notify_commercial", "position", "active",
    ]
    add_form_extra_fields = edit_form_extra_fields = {
        "stage": SelectField(_l("Quand"), choices=[(SlaStage.WARNING, SLA_STAGE_LABELS[SlaStage.WARNING]), (SlaStage.BREACH, SLA_STAGE_LABELS[SlaStage.BREACH])]),
        "deadline": SelectField(_l("Délai concerné"), choices=[("", _l("Les deux")), (SlaDeadline.FIRST_RESPONSE, _l("Première réponse")), (SlaDeadline.RESOLUTION, _l("Résolution"))]),
        # Unticked boxes are a valid "no" (FAB would make non-null booleans required).
        "raise_level": BooleanField(_l("Passer au niveau de support suivant")),
        "raise_priority": BooleanField(_l("Relever la priorité d'un cran")),
        "notify_commercial": BooleanField(_l("Prévenir le commercial du client")),
        "active": BooleanField(_l("Active"), default=True),
    }
    formatters_columns = {
        **yes_no_formatters("active", "raise_level", "raise_priority", "notify_commercial"),
        "stage": lambda s: SLA_STAGE_LABELS.get(s, s),
        "deadline": lambda d: {SlaDeadline.FIRST_RESPONSE: _l("Première réponse"), SlaDeadline.RESOLUTION: _l("Résolution")}.get(d, _l("Les deux")),
    }
    base_order = ("position", "asc")

    def pre_add(self, item):
        sla_watch.check_rule(item)

    pre_update = pre_add
