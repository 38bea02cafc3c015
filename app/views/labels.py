"""Words shown for the desk's codes (channels, routing, history entries), in the person's language."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models import Channel, Routing

CHANNEL_LABELS = {
    Channel.WEB: _l("Web"),
    Channel.EMAIL: _l("E-mail"),
    Channel.CHAT: _l("Chat"),
    Channel.PHONE: _l("Téléphone"),
    Channel.API: _l("API"),
}
ROUTING_LABELS = {
    Routing.MANUAL: _l("Manuelle"),
    Routing.ROUND_ROBIN: _l("Chacun son tour (round-robin)"),
    Routing.LEAST_LOADED: _l("Au moins chargé"),
}

SLA_STAGE_LABELS = {
    "warning": _l("Peu avant l'échéance"),
    "breach": _l("Échéance dépassée"),
}


def _deadline(key):
    return _("première réponse") if key == "first_response" else _("résolution")


def event_sentence(event):
    """One history line, e.g. « Statut : Nouveau → En cours »."""
    old, new = event.old_value, event.new_value
    sentences = {
        "created": lambda: _("Ticket créé (%(number)s)", number=new),
        "replied": lambda: _("Réponse publiée"),
        "note_added": lambda: _("Note interne ajoutée"),
        "status": lambda: _("Statut : %(old)s → %(new)s", old=old or "—", new=new),
        "reopened": lambda: _("Ticket rouvert"),
        "priority": lambda: _("Priorité : %(old)s → %(new)s", old=old, new=new),
        "assigned": lambda: _("Attribué à : %(new)s", new=new or _("personne")),
        "queue": lambda: _("File : %(old)s → %(new)s", old=old or "—", new=new),
        "escalated": lambda: _("Escaladé : %(old)s → %(new)s", old=old or "—", new=new),
        "escalated_level": lambda: _("Transmis au support de niveau %(level)s", level=new),
        "linked": lambda: _("Lié au ticket %(number)s", number=new),
        "parent": lambda: _("Devenu sous-demande de %(number)s", number=new),
        "child_added": lambda: _("Sous-demande ajoutée : %(number)s", number=new),
        "merged_into": lambda: _("Fusionné dans %(number)s", number=new),
        "merged_from": lambda: _("A reçu les messages de %(number)s", number=new),
        "identified": lambda: _("Expéditeur rattaché à %(new)s", new=new),
        "attachment_refused": lambda: _("Pièce jointe du message refusée : %(file)s", file=new),
        "mail_unverified": lambda: _("Expéditeur non vérifié : %(organisation)s n'accepte que les e-mails authentifiés (DMARC ou DKIM), le message est placé chez les expéditeurs non identifiés", organisation=new),
        "mail_bounced": lambda: _("E-mail non remis : %(detail)s", detail=new),
        "sla_warning": lambda: _("Délai de %(deadline)s bientôt atteint", deadline=_deadline(new)),
        "sla_breach": lambda: _("Délai de %(deadline)s dépassé", deadline=_deadline(new)),
        "rated": lambda: _("Satisfaction : %(score)s", score=new),
    }
    return sentences.get(event.action, lambda: event.action)()
