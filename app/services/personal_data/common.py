"""A person, their pseudonym and scrubber, and the registry of holders of personal data."""
import json
import re
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, or_

from app.extensions import db
from app.models import AccountRequest, NovaUser
from app.services import ServiceError

ANONYMOUS_NAME = "Personne anonymisée"
PHONE_REPLACEMENT = "[téléphone effacé]"
PSEUDONYM_DOMAIN = "anonymised.invalid"


# --- who ------------------------------------------------------------------------------------


@dataclass
class Person:
    """Someone NovaDesk knows by an e-mail address, with or without an account."""

    email: str
    user: NovaUser | None = None
    names: list = field(default_factory=list)
    phones: list = field(default_factory=list)

    @property
    def label(self):
        return self.names[0] if self.names else self.email

    def needles(self):
        """The strings whose presence in a text is a trace of the person (LIKE prefilters)."""
        return [self.email] + [n for n in self.names if len(n) >= 5]

    def phone_tails(self):
        """The last six digits of each phone number, to look for in texts stripped of spaces,
        dots and dashes."""
        return [d[-6:] for d in (re.sub(r"\D", "", p) for p in self.phones) if len(d) >= 6]


def find_person(email):
    """The person behind an address: their account, if any, and every name and phone number
    recorded with it (account requests included)."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ServiceError(_("Saisissez une adresse e-mail."))
    user = db.session.query(NovaUser).filter(NovaUser.email == email).one_or_none()
    person = Person(email=email, user=user)
    names, phones = [], []
    if user is not None:
        names.append(f"{user.first_name} {user.last_name}".strip())
        names.append(f"{user.last_name} {user.first_name}".strip())
        phones.append(user.phone)
    for request in db.session.query(AccountRequest).filter(AccountRequest.email == email):
        names.append(f"{request.first_name} {request.last_name}".strip())
        phones.append(request.phone)
    person.names = list(dict.fromkeys(n for n in names if n and n != ANONYMOUS_NAME))
    person.phones = list(dict.fromkeys(p for p in phones if p))
    return person


def pseudonym_for(person):
    key = person.user.id if person.user is not None else secrets.token_hex(4)
    return f"anonyme-{key}@{PSEUDONYM_DOMAIN}"


# --- scrubbing text ---------------------------------------------------------------------------


def _phone_pattern(phone):
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 6:
        return None
    # +221 77 000 11 22, 77 000 11 22, 0033-1-23…, (77) 000.11.22: the subscriber number's
    # digits (the last nine), whatever separates them, with or without a country code or a
    # leading zero.
    separators = r"[\s.\-()/]*"
    national = separators.join(re.escape(d) for d in digits[-9:])
    return r"(?<!\d)(?:\+?\d{1,5}" + separators + r")?(?:0" + separators + r")?" + national + r"(?!\d)"


def scrubber(person, pseudonym):
    """A function that replaces the person's address, names and phones in a text."""
    parts = [(re.escape(person.email), pseudonym)]
    parts += [(re.escape(name), ANONYMOUS_NAME) for name in sorted(person.names, key=len, reverse=True) if len(name) >= 5]
    parts += [(p, PHONE_REPLACEMENT) for p in filter(None, map(_phone_pattern, person.phones))]
    patterns = [(re.compile(p, re.IGNORECASE), r) for p, r in parts]

    def scrub(value):
        if isinstance(value, str):
            for pattern, replacement in patterns:
                value = pattern.sub(replacement, value)
            return value
        if isinstance(value, (bytes, bytearray)):
            return scrub(value.decode("utf-8", errors="replace")).encode("utf-8")
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        return value

    return scrub


def _mentions(column, person, json_text=False):
    needles = person.needles()
    if json_text:  # JSON columns may keep non-ASCII letters as \\uXXXX escapes
        needles = needles + [json.dumps(n)[1:-1] for n in needles if not n.isascii()]
    conditions = [column.icontains(needle, autoescape=True) for needle in needles]
    tails = person.phone_tails()
    if tails:
        bare = column
        for separator in (" ", ".", "-", "(", ")", "/", "\u00a0"):
            bare = func.replace(bare, separator, "")
        conditions += [bare.contains(tail) for tail in tails]
    return or_(*conditions)


# --- the registry -----------------------------------------------------------------------------


@dataclass
class Holder:
    name: str
    label: str
    export: object
    erase: object
    expire: object = None


HOLDERS = []


def register(holder):
    """Add (or replace, by name) a holder of personal data."""
    HOLDERS[:] = [h for h in HOLDERS if h.name != holder.name] + [holder]
    return holder


def _iso(moment):
    return moment.isoformat() if moment else None
