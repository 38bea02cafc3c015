"""Words shown for the desk's codes (channels, routing, history entries), in the person's language."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models import Channel, Routing
from app.security.roles import ROLE_LABELS

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
        "thanks_kept_resolved": lambda: _("Remerciement du client — le ticket reste résolu"),
        "thanks_kept_closed": lambda: _("Remerciement du client — le ticket reste fermé"),
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


def _ticket_number(label):
    """A ticket's label is « NL-000123 Title »: sentences name it by its number."""
    return (label or "").split(" ", 1)[0] or "—"


def _names(value):
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or _("personne")
    return str(value or _("personne"))


def _activity_sentences():
    """Code of an activity-log entry → its sentence; %(actor)s did it, %(target)s is what it
    was done to, %(subject)s the person it is about."""
    return {
        "login.success": lambda e, d: _("%(subject)s s'est connecté(e)", subject=e["subject"]),
        "login.failed": lambda e, d: _("Échec de connexion pour %(who)s", who=e["subject"] if e["has_subject"] else d.get("email") or _("une adresse inconnue")),
        "login.locked": lambda e, d: _("Compte de %(subject)s verrouillé après trop d'échecs", subject=e["subject"]),
        "login.refused_locked": lambda e, d: _("Connexion refusée à %(subject)s : compte verrouillé", subject=e["subject"]),
        "logout": lambda e, d: _("%(subject)s s'est déconnecté(e)", subject=e["subject"]),
        "session.ended": lambda e, d: _("Une session de %(subject)s a été terminée", subject=e["subject"]),
        "session.ended_all": lambda e, d: _("Toutes les sessions de %(subject)s ont été terminées", subject=e["subject"]),
        "2fa.code_sent": lambda e, d: _("Code de connexion envoyé par e-mail à %(subject)s", subject=e["subject"]),
        "2fa.verified": lambda e, d: _("%(subject)s a saisi son code de connexion", subject=e["subject"]),
        "2fa.failed": lambda e, d: _("Code de connexion erroné pour %(subject)s", subject=e["subject"]),
        "2fa.recovery_code_used": lambda e, d: _("%(subject)s s'est connecté(e) avec un code de secours", subject=e["subject"]),
        "2fa.totp_enabled": lambda e, d: _("%(subject)s a activé l'application d'authentification", subject=e["subject"]),
        "2fa.totp_disabled": lambda e, d: _("%(subject)s a désactivé l'application d'authentification", subject=e["subject"]),
        "2fa.recovery_codes_generated": lambda e, d: _("%(subject)s a généré de nouveaux codes de secours", subject=e["subject"]),
        "2fa.email_enabled": lambda e, d: _("%(subject)s reçoit désormais un code par e-mail à chaque connexion", subject=e["subject"]),
        "2fa.email_disabled": lambda e, d: _("%(subject)s ne reçoit plus de code par e-mail à chaque connexion", subject=e["subject"]),
        "password_reset.requested": lambda e, d: _("%(subject)s a demandé à réinitialiser son mot de passe", subject=e["subject"]),
        "user.password_changed": lambda e, d: _("Mot de passe de %(subject)s changé", subject=e["subject"]),
        "user.created": lambda e, d: _("%(actor)s a créé le compte de %(target)s", actor=e["actor"], target=e["target"]),
        "user.updated": lambda e, d: _("%(actor)s a modifié le compte de %(target)s", actor=e["actor"], target=e["target"]),
        "user.deleted": lambda e, d: _("%(actor)s a supprimé le compte de %(target)s", actor=e["actor"], target=e["target"]),
        "user.deactivated": lambda e, d: _("%(actor)s a désactivé le compte de %(target)s", actor=e["actor"], target=e["target"]),
        "user.reactivated": lambda e, d: _("%(actor)s a réactivé le compte de %(target)s", actor=e["actor"], target=e["target"]),
        "role.created": lambda e, d: _("%(actor)s a créé le rôle %(target)s", actor=e["actor"], target=e["target"]),
        "role.updated": lambda e, d: _("%(actor)s a modifié le rôle %(target)s", actor=e["actor"], target=e["target"]),
        "role.deleted": lambda e, d: _("%(actor)s a supprimé le rôle %(target)s", actor=e["actor"], target=e["target"]),
        "role_policy.created": lambda e, d: _("%(actor)s a créé la règle de double authentification %(target)s", actor=e["actor"], target=e["target"]),
        "role_policy.updated": lambda e, d: _("%(actor)s a modifié la double authentification du rôle %(target)s", actor=e["actor"], target=e["target"]),
        "role_policy.deleted": lambda e, d: _("%(actor)s a supprimé la règle de double authentification %(target)s", actor=e["actor"], target=e["target"]),
        "organisation.created": lambda e, d: _("%(actor)s a créé l'organisation %(target)s", actor=e["actor"], target=e["target"]),
        "organisation.updated": lambda e, d: _("%(actor)s a modifié l'organisation %(target)s", actor=e["actor"], target=e["target"]),
        "organisation.deleted": lambda e, d: _("%(actor)s a supprimé l'organisation %(target)s", actor=e["actor"], target=e["target"]),
        "organisation.deactivated": lambda e, d: _("%(actor)s a désactivé l'organisation %(target)s", actor=e["actor"], target=e["target"]),
        "product.created": lambda e, d: _("%(actor)s a créé le produit %(target)s", actor=e["actor"], target=e["target"]),
        "product.updated": lambda e, d: _("%(actor)s a modifié le produit %(target)s", actor=e["actor"], target=e["target"]),
        "product.deleted": lambda e, d: _("%(actor)s a supprimé le produit %(target)s", actor=e["actor"], target=e["target"]),
        "account_request.created": lambda e, d: _("Demande de compte reçue de %(email)s", email=d.get("email") or e["target"]),
        "account_request.confirmed": lambda e, d: _("Demande de compte de %(target)s confirmée par e-mail", target=e["target"]),
        "account_request.approved": lambda e, d: _("%(actor)s a approuvé la demande de compte de %(target)s", actor=e["actor"], target=e["target"]),
        "account_request.rejected": lambda e, d: _("%(actor)s a refusé la demande de compte de %(target)s", actor=e["actor"], target=e["target"]),
        "api_key.issued": lambda e, d: _("%(actor)s a émis la clé d'API « %(name)s » pour %(subject)s", actor=e["actor"], name=d.get("name", ""), subject=e["subject"]),
        "api_key.revoked": lambda e, d: _("%(actor)s a révoqué la clé d'API « %(name)s » de %(subject)s", actor=e["actor"], name=d.get("name", ""), subject=e["subject"]),
        "personal_data.exported": lambda e, d: _("%(actor)s a exporté les données personnelles de %(subject)s", actor=e["actor"], subject=e["subject"]),
        "personal_data.erased": lambda e, d: _("%(actor)s a effacé les données personnelles d'une personne (désormais %(pseudonym)s)", actor=e["actor"], pseudonym=d.get("pseudonym", "—")),
        "ticket.created": lambda e, d: _("%(actor)s a créé %(ticket)s (%(channel)s)", actor=e["actor"], ticket=e["ticket"], channel=CHANNEL_LABELS.get(d.get("channel"), d.get("channel") or "—")),
        "ticket.assigned": lambda e, d: _("%(actor)s a attribué %(ticket)s à %(assignees)s", actor=e["actor"], ticket=e["ticket"], assignees=_names(d.get("assignees"))),
        "ticket.escalated": lambda e, d: _("%(actor)s a escaladé %(ticket)s vers la file %(queue)s", actor=e["actor"], ticket=e["ticket"], queue=d.get("queue", "—")),
        "ticket.identified": lambda e, d: _("%(actor)s a rattaché l'expéditeur de %(ticket)s à %(organisation)s", actor=e["actor"], ticket=e["ticket"], organisation=d.get("organisation", "—")),
        "ticket.reopened": lambda e, d: _("%(actor)s a rouvert %(ticket)s", actor=e["actor"], ticket=e["ticket"]),
        "ticket.resolved": lambda e, d: _("%(actor)s a résolu %(ticket)s", actor=e["actor"], ticket=e["ticket"]),
        "ticket.closed": lambda e, d: _("%(actor)s a fermé %(ticket)s", actor=e["actor"], ticket=e["ticket"]),
        "ticket.merged": lambda e, d: _("%(actor)s a fusionné %(ticket)s dans %(into)s", actor=e["actor"], ticket=e["ticket"], into=d.get("into", "—")),
        "tickets.imported": lambda e, d: _("%(actor)s a importé des tickets de l'ancien help desk : %(created)s créés, %(errors)s en erreur", actor=e["actor"], created=d.get("created", 0), errors=d.get("errors", 0)),
        "directory.synced": lambda e, d: _("%(actor)s a synchronisé l'annuaire (%(source)s)", actor=e["actor"], source=d.get("source", "—")),
        "chat.started": lambda e, d: _("Une discussion en direct a commencé (n° %(number)s)", number=d.get("conversation", "—")),
        "webhook.created": lambda e, d: _("%(actor)s a créé le webhook « %(name)s »", actor=e["actor"], name=d.get("name", "")),
        "webhook.updated": lambda e, d: _("%(actor)s a modifié le webhook « %(name)s »", actor=e["actor"], name=d.get("name", "")),
        "webhook.secret_renewed": lambda e, d: _("%(actor)s a renouvelé le secret du webhook « %(name)s »", actor=e["actor"], name=d.get("name", "")),
        "webhook.resent": lambda e, d: _("%(actor)s a renvoyé un envoi de webhook", actor=e["actor"]),
        "mail.inbound_retried": lambda e, d: _("%(actor)s a relancé le traitement d'un message reçu", actor=e["actor"]),
        "mail.outbox_retried": lambda e, d: _("%(actor)s a relancé l'envoi d'un e-mail", actor=e["actor"]),
    }


def activity_sentence(entry):
    """An activity-log entry as a sentence, e.g. « Fatou Ndiaye a attribué NL-000123 à Koffi Mensah »."""
    actor = entry.actor.full_name if entry.actor is not None else None
    subject = entry.subject_user.full_name if entry.subject_user is not None else None
    target = entry.target_label
    if entry.target_type == "Role" and target:
        target = str(ROLE_LABELS.get(target, target))
    words = {
        "actor": actor or _("NovaDesk"),
        "subject": subject or entry.target_label or actor or _("une personne"),
        "has_subject": subject is not None,
        "target": target or "—",
        "ticket": _ticket_number(entry.target_label),
    }
    sentence = _activity_sentences().get(entry.action)
    if sentence is None:
        return _("%(actor)s : action sans libellé", actor=words["actor"])
    return sentence(words, entry.details if isinstance(entry.details, dict) else {})
