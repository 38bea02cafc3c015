"""Who is on the widget's side (C5): the partner's channels, the pages that may use them, and
the visitor's identity as the partner's server signed it (or an anonymous visitor)."""
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChatChannel, NovaUser, Organisation
from app.services import ServiceError
from app.services.chat.common import ChatRefused, as_int, clean_email, clean_name

DEMO_CHANNEL_KEY = "ndc_demo_novalead_partner"  # the channel of the demo partner page (DEMO_MODE)
# Who the demo page says is signed in: a demonstration person, never a real account (nothing
# said on the demo page becomes a ticket in a client's name, nor mail to them).
DEMO_VISITOR = {"id": "demo-visiteur", "name": "Mariama Ba — démonstration", "email": "visiteur@demo.novadesk.example"}


def new_channel_keys():
    """A public key for the snippet and a secret for the partner's server."""
    return "ndc_" + secrets.token_urlsafe(18), secrets.token_hex(32)


def sign_identity(secret, external_id, email, expires, name=""):
    """What the partner's server computes: HMAC-SHA256 over `id:email:name:expires` (the
    e-mail in lower case, expires in Unix seconds), hexadecimal. Everything the console shows
    as verified is signed: a visitor cannot put someone else's address on a signed id
    (answers go there), nor another name (agents trust it)."""
    message = f"{external_id}:{(email or '').strip().lower()}:{(name or '').strip()}:{int(expires)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _usable(channel):
    if channel is None or not channel.active or not channel.organisation.active:
        return False
    return channel.public_key != DEMO_CHANNEL_KEY or bool(current_app.config.get("DEMO_MODE"))


def channel_for_key(public_key):
    channel = None
    if isinstance(public_key, str) and 0 < len(public_key) <= 40:
        channel = db.session.query(ChatChannel).filter_by(public_key=public_key).one_or_none()
    if not _usable(channel):
        raise ChatRefused(_("Ce canal de discussion n'existe pas ou n'est plus actif."))
    return channel


def channel_by_id(channel_id):
    channel = db.session.get(ChatChannel, channel_id)
    if not _usable(channel):
        raise ChatRefused(_("Ce canal de discussion n'existe pas ou n'est plus actif."))
    return channel


def demo_channel():
    """The channel of /demo/partner, in demo mode only (None otherwise)."""
    channel = db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one_or_none()
    return channel if _usable(channel) else None


def served_origin():
    """The origin NovaDesk is served on: PUBLIC_URL's, else HOST and PORT's (the request's
    own when HOST listens on every interface)."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        parts = urlsplit(public)
        return f"{parts.scheme}://{parts.netloc.lower()}"
    host = str(current_app.config.get("HOST") or "")
    if host in ("", "0.0.0.0", "::"):
        return request.host_url.rstrip("/") if has_request_context() else "http://127.0.0.1:5000"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host.lower()}:{current_app.config.get('PORT') or 5000}"


def channel_origins(channel):
    """Where a channel's widget may be shown. The demo channel follows the address NovaDesk is
    served on (its demo page is NovaDesk's own), plus DEMO_CHAT_ORIGINS."""
    origins = list(channel.origins)
    if channel.public_key == DEMO_CHANNEL_KEY:
        extra = [served_origin()] + clean_origins(current_app.config.get("DEMO_CHAT_ORIGINS", ""))
        origins += [origin for origin in extra if origin not in origins]
    return origins


def clean_origins(text):
    """Origins as the browser sends them (scheme://host[:port]); anything else is refused."""
    cleaned = []
    for line in (text or "").replace(",", "\n").splitlines():
        line = line.strip().rstrip("/")
        if not line:
            continue
        parts = urlsplit(line)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "*" in line:
            raise ServiceError(_("Origine invalide : %(origin)s (attendu : https://site.example, sans chemin).", origin=line))
        cleaned.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return cleaned


def origin_allowed(channel, origin):
    return bool(origin) and origin.rstrip("/").lower() in channel_origins(channel)


def origin_accepted(channel, origin, own_origin):
    """May a request from this page use the channel? NovaDesk's own frame (where it may be
    embedded is the browser's business, by frame-ancestors), or a page on one of the channel's
    origins. `origin` is what the browser said (Origin or Referer), never what a script said."""
    if not origin:
        return False
    return origin == own_origin.rstrip("/").lower() or origin_allowed(channel, origin)


@dataclass
class Visitor:
    """Who is on the widget's side: vouched for by the partner (`identified`), or anonymous."""

    identified: bool
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    user_id: int | None = None
    organisation_id: int | None = None

    def as_session(self):
        return self.__dict__.copy()


def visitor_from_identity(channel, identity):
    """The partner's signed identity checked (C5), or an anonymous visitor where the channel
    allows them. A forged, expired or missing signature on a channel without anonymous
    visitors is refused."""
    identity = identity if isinstance(identity, dict) else {}
    signature = identity.get("signature")
    if not signature:
        if channel.allow_anonymous:
            return Visitor(identified=False, organisation_id=channel.organisation_id)
        raise ChatRefused(_("Ce canal n'accepte que les utilisateurs identifiés par votre logiciel."))
    external_id = str(identity.get("id") or "").strip()[:200]
    email = clean_email(identity.get("email"), required=False)
    expires = as_int(identity.get("expires"))
    name = clean_name(identity.get("name"))
    expected = sign_identity(channel.secret, external_id, email, expires, name or "")
    if not external_id or not hmac.compare_digest(expected.encode(), str(signature).encode()):
        raise ChatRefused(_("Identité refusée : la signature ne correspond pas."))
    if expires < time.time():
        raise ChatRefused(_("Identité expirée : rechargez la page de votre logiciel."))
    visitor = Visitor(identified=True, external_id=external_id, name=name, email=email, organisation_id=channel.organisation_id)
    user = _account_for(channel, email)
    if user is not None:
        visitor.user_id, visitor.organisation_id = user.id, user.organisation_id
        visitor.name = visitor.name or user.full_name
    return visitor


def _account_for(channel, email):
    """The partner's user known to NovaDesk under that address, in the channel's organisation
    or one it resells to; nobody from elsewhere is adopted."""
    if not email:
        return None
    organisations = select(Organisation.id).where(
        (Organisation.id == channel.organisation_id) | (Organisation.reseller_id == channel.organisation_id)
    )
    return (
        db.session.query(NovaUser)
        .filter(func.lower(NovaUser.email) == email, NovaUser.active.is_(True), NovaUser.organisation_id.in_(organisations))
        .one_or_none()
    )
