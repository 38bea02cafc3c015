"""People: create, change, deactivate. A deactivated user keeps every trace of their work."""
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func

from app.extensions import db
from app.models import NovaUser, Organisation
from app.security import roles as role_catalogue
from app.security.passwords import hash_password
from app.services import ServiceError, audit, auth, notifications, sessions


def validate_password(password):
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if not password or len(password) < minimum:
        raise ServiceError(_("Le mot de passe doit contenir au moins %(n)s caractères.", n=minimum))
    if password.isdigit() or password.isalpha():
        raise ServiceError(_("Le mot de passe doit mêler lettres et chiffres ou symboles."))


def email_taken(email):
    return db.session.query(NovaUser.id).filter(func.lower(NovaUser.email) == normalise_email(email)).first() is not None


def normalise_email(email):
    return (email or "").strip().lower()


def timezone_for(organisation):
    """The time zone a new user of this organisation gets: the organisation's, else the default."""
    return (organisation.timezone if organisation is not None else None) or current_app.config["DEFAULT_TIMEZONE"]


def check_timezone(name):
    if name not in available_timezones():
        raise ServiceError(_("Fuseau horaire inconnu : %(name)s.", name=name))
    return name


def check_new_account(user):
    """An account filled in by an admin screen: unique e-mail, password rules, hashed; the
    organisation's time zone unless the admin chose one."""
    user.email = user.username = normalise_email(user.email)
    user.timezone = check_timezone(user.timezone or timezone_for(user.organisation))
    if email_taken(user.email):
        raise ServiceError(_("Un compte existe déjà avec cette adresse e-mail."))
    validate_password(user.password)
    user.password = hash_password(user.password)


def check_account_change(actor, user):
    """An account changed by an admin screen: the e-mail stays unique, nobody deactivates themselves."""
    user.email = user.username = normalise_email(user.email)
    clash = db.session.query(NovaUser.id).filter(func.lower(NovaUser.email) == user.email, NovaUser.id != user.id).first()
    if clash is not None:
        raise ServiceError(_("Un compte existe déjà avec cette adresse e-mail."))
    if not user.active and actor is not None and actor.id == user.id:
        raise ServiceError(_("Vous ne pouvez pas désactiver votre propre compte."))
    if not user.active:
        sessions.end_all_sessions(user, sessions.DEACTIVATED, actor=actor)


def create_user(*, email, first_name, last_name, password, role_names, organisation=None, password_hash=None, **fields):
    """Create an account. `password_hash` lets an approved account request keep the password
    its author chose without ever storing it in clear."""
    email = normalise_email(email)
    if email_taken(email):
        raise ServiceError(_("Un compte existe déjà avec cette adresse e-mail."))
    if password_hash is None:
        validate_password(password)
        password_hash = hash_password(password)
    sm = current_app.appbuilder.sm
    user_roles = [sm.find_role(name) for name in role_names]
    if any(role is None for role in user_roles):
        raise ServiceError(_("Rôle inconnu parmi %(names)s.", names=", ".join(role_names)))
    user = NovaUser(
        email=email,
        username=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        password=password_hash,
        active=True,
        roles=user_roles,
        organisation=organisation,
        **fields,
    )
    if not fields.get("timezone"):
        user.timezone = timezone_for(organisation)
    db.session.add(user)
    db.session.flush()
    return user


def deactivate_user(actor, user):
    if actor is not None and actor.id == user.id:
        raise ServiceError(_("Vous ne pouvez pas désactiver votre propre compte."))
    if not user.active:
        return user
    user.active = False
    audit.record(db.session, "user.deactivated", actor=actor, subject_user=user, target=user)
    sessions.end_all_sessions(user, sessions.DEACTIVATED, actor=actor)
    return user


def reactivate_user(actor, user):
    if user.active:
        return user
    user.active = True
    user.locked_until = None
    user.fail_login_count = 0
    auth.clear_lock(user)
    audit.record(db.session, "user.reactivated", actor=actor, subject_user=user, target=user)
    return user


def deactivate_organisations(actor, organisations):
    """Organisations are never deleted (their tickets and history stay); they are deactivated."""
    for organisation in organisations:
        if organisation.active:
            organisation.active = False
            audit.record(db.session, "organisation.deactivated", actor=actor, target=organisation)


def change_password(user, new_password, keep_session=None):
    """A new password ends every session of the person, but the one that changed it
    (`keep_session`, their own current session's key) when they changed it themselves."""
    validate_password(new_password)
    user.password = hash_password(new_password)
    user.locked_until = None
    user.fail_login_count = 0
    auth.clear_lock(user)
    audit.record(db.session, "user.password_changed", subject_user=user, target=user)
    sessions.end_all_sessions(user, sessions.PASSWORD_CHANGED, keep_key=keep_session)


def update_preferences(user, *, locale=None, timezone=None, phone=None, first_name=None, last_name=None, muted_notifications=None):
    if locale is not None:
        if locale not in current_app.config["LANGUAGES"]:
            raise ServiceError(_("Langue inconnue."))
        user.locale = locale
    if timezone is not None:
        if timezone not in available_timezones():
            raise ServiceError(_("Fuseau horaire inconnu."))
        user.timezone = timezone
    if phone is not None:
        user.phone = phone.strip() or None
    if first_name:
        user.first_name = first_name.strip()
    if last_name:
        user.last_name = last_name.strip()
    if muted_notifications is not None:
        notifications.set_muted(user, muted_notifications)


def is_commercial(user):
    return user is not None and role_catalogue.COMMERCIAL in user.role_names


def check_organisation(organisation):
    """Rules an organisation must satisfy whatever screen or import wrote it."""
    errors = {}
    organisation.timezone = organisation.timezone or current_app.config["DEFAULT_TIMEZONE"]
    try:
        check_timezone(organisation.timezone)
    except ServiceError as error:
        errors["timezone"] = error.message
    domains = [d.strip().lower().lstrip("@") for d in (organisation.email_domains or "").replace(",", " ").split()]
    organisation.email_domains = " ".join(sorted(set(domains)))
    for domain in domains:
        if "." not in domain or " " in domain:
            errors["email_domains"] = _("« %(domain)s » n'est pas un nom de domaine.", domain=domain)
        clash = (
            db.session.query(Organisation)
            .filter(Organisation.id != organisation.id, Organisation.email_domains.contains(domain))
            .all()
        )
        if any(domain in other.domain_list for other in clash):
            errors["email_domains"] = _("Le domaine « %(domain)s » appartient déjà à une autre organisation.", domain=domain)
    if organisation.account_manager is not None and not is_commercial(organisation.account_manager):
        errors["account_manager"] = _("Le responsable de compte doit avoir le rôle Commercial.")
    if organisation.reseller is not None:
        if organisation.reseller.kind != "reseller":
            errors["reseller"] = _("Le revendeur choisi n'est pas une organisation de type revendeur.")
        if organisation.reseller_id == organisation.id:
            errors["reseller"] = _("Une organisation ne peut pas être son propre revendeur.")
    if errors:
        raise ServiceError(_("Organisation invalide :") + " " + " ".join(errors.values()), errors)
    return organisation
