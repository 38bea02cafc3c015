"""Account requests from partners' staff (U5) and forgotten passwords."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import true

from app.extensions import db
from app.models import AccountRequest, AccountRequestStatus, NovaUser, Organisation, OrganisationKind
from app.models.types import utcnow
from app.security import roles
from app.security.passwords import hash_password
from app.services import ServiceError, audit
from app.services.auth import find_user_by_email
from app.services.mail import queue_mail, queue_mail_to_user
from app.services.public_address import external_url
from app.services.users import change_password, create_user, email_taken, validate_password

RESET_MINUTES = 60
CONFIRM_DAYS = 7


def _token_digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def organisation_for_email(email):
    """The active client or reseller organisation that declared this e-mail's domain."""
    domain = email.rsplit("@", 1)[-1].lower()
    candidates = (
        db.session.query(Organisation)
        .filter(
            Organisation.active.is_(true()),
            Organisation.kind.in_([OrganisationKind.CLIENT, OrganisationKind.RESELLER]),
            Organisation.email_domains.contains(domain),
        )
        .all()
    )
    return next((org for org in candidates if domain in org.domain_list), None)


def request_account(*, first_name, last_name, email, organisation_name, password, phone=None, message=None, locale="fr"):
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ServiceError(_("Adresse e-mail invalide."), {"email": "Adresse e-mail invalide."})
    validate_password(password)
    if email_taken(email):
        # Same answer on screen as for a new address; the owner is told by mail.
        queue_mail("account_exists", email, locale=locale, link=external_url("NovaAuthView.forgot_password"))
        return None
    token = secrets.token_urlsafe(32)
    account_request = AccountRequest(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        phone=(phone or "").strip() or None,
        organisation_name=organisation_name.strip(),
        message=(message or "").strip() or None,
        password_hash=hash_password(password),
        token_hash=_token_digest(token),
    )
    db.session.add(account_request)
    db.session.flush()
    audit.record(db.session, "account_request.created", target=account_request, details={"email": email})
    queue_mail(
        "account_request_confirm",
        email,
        locale=locale,
        request=account_request,
        link=external_url("AccountRequestView.confirm", token=token),
    )
    return account_request


def confirm_account_request(token, locale="fr"):
    account_request = (
        db.session.query(AccountRequest).filter(AccountRequest.token_hash == _token_digest(token or "")).one_or_none()
    )
    if account_request is None or account_request.created_on < utcnow() - timedelta(days=CONFIRM_DAYS):
        raise ServiceError(_("Ce lien de confirmation est invalide ou a expiré."))
    if account_request.status != AccountRequestStatus.UNCONFIRMED:
        return account_request  # following the link twice changes nothing
    account_request.status = AccountRequestStatus.PENDING
    account_request.confirmed_on = utcnow()
    audit.record(db.session, "account_request.confirmed", target=account_request)
    organisation = organisation_for_email(account_request.email)
    if organisation is not None:
        approve_account_request(None, account_request, organisation, locale=locale)
    else:
        queue_mail("account_request_pending", account_request.email, locale=locale, request=account_request)
        _tell_admins(account_request)
    return account_request


def _tell_admins(account_request):
    sm = current_app.appbuilder.sm
    admin_role = sm.find_role(roles.ADMIN)
    admins = db.session.query(NovaUser).filter(NovaUser.active.is_(true()), NovaUser.roles.contains(admin_role)).all()
    link = external_url("AccountRequestModelView.list")
    for admin in admins:
        queue_mail_to_user("account_request_to_review", admin, request=account_request, link=link)


def approve_account_request(actor, account_request, organisation, locale="fr"):
    if account_request.status != AccountRequestStatus.PENDING:
        raise ServiceError(_("Seule une demande confirmée et en attente peut être approuvée."))
    if organisation is None or organisation.kind == OrganisationKind.VENDOR or organisation.holds_unidentified:
        raise ServiceError(_("Choisissez l'organisation cliente ou revendeuse du demandeur."))
    role = roles.RESELLER if organisation.kind == OrganisationKind.RESELLER else roles.CLIENT
    user = create_user(
        email=account_request.email,
        first_name=account_request.first_name,
        last_name=account_request.last_name,
        password=None,
        password_hash=account_request.password_hash,
        role_names=[role],
        organisation=organisation,
        phone=account_request.phone,
        locale=locale if locale in ("fr", "en") else "fr",
    )
    account_request.status = AccountRequestStatus.APPROVED
    account_request.organisation = organisation
    account_request.user = user
    account_request.decided_on = utcnow()
    account_request.decided_by = actor
    audit.record(db.session, "account_request.approved", actor=actor, target=account_request, subject_user=user)
    queue_mail_to_user("account_created", user, organisation=organisation.name, link=external_url("NovaAuthView.login"))
    return user


def reject_account_request(actor, account_request, reason=None):
    if account_request.status not in (AccountRequestStatus.PENDING, AccountRequestStatus.UNCONFIRMED):
        raise ServiceError(_("Cette demande a déjà été traitée."))
    account_request.status = AccountRequestStatus.REJECTED
    account_request.decided_on = utcnow()
    account_request.decided_by = actor
    audit.record(db.session, "account_request.rejected", actor=actor, target=account_request, details={"reason": reason})
    queue_mail("account_request_rejected", account_request.email, request=account_request, reason=reason)


# --- forgotten password ------------------------------------------------------------------


def _reset_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="novadesk-password-reset")


def _password_fingerprint(user):
    # Changes with the password, so a link works once.
    return hashlib.sha256((user.password or "").encode()).hexdigest()[:16]


def request_password_reset(email):
    user = find_user_by_email(email)
    if user is None or not user.active:
        return  # the page says the same thing either way
    token = _reset_serializer().dumps({"uid": user.id, "fp": _password_fingerprint(user)})
    queue_mail_to_user(
        "password_reset", user, link=external_url("NovaAuthView.reset_password", token=token), minutes=RESET_MINUTES
    )
    audit.record(db.session, "password_reset.requested", subject_user=user, target=user)


def user_for_reset_token(token):
    try:
        data = _reset_serializer().loads(token, max_age=RESET_MINUTES * 60)
    except (BadSignature, SignatureExpired):
        raise ServiceError(_("Ce lien de réinitialisation est invalide ou a expiré."))
    user = db.session.get(NovaUser, data.get("uid"))
    if user is None or not user.active or data.get("fp") != _password_fingerprint(user):
        raise ServiceError(_("Ce lien de réinitialisation est invalide ou a déjà servi."))
    return user


def reset_password(token, new_password):
    user = user_for_reset_token(token)
    change_password(user, new_password)
    return user
