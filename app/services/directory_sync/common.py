"""The actions of a directory synchronisation, its outcome and plan, and the reading of one value."""
import re
from dataclasses import dataclass, field

from app.models import OrganisationKind

CREATE, UPDATE, UNCHANGED, DEACTIVATE, ERROR = "create", "update", "unchanged", "deactivate", "error"
ACTION_LABELS = {CREATE: "Création", UPDATE: "Mise à jour", UNCHANGED: "Inchangé", DEACTIVATE: "Désactivation", ERROR: "Erreur"}
_KINDS = {
    "client": OrganisationKind.CLIENT, "client_partenaire": OrganisationKind.CLIENT, "partenaire": OrganisationKind.CLIENT,
    "reseller": OrganisationKind.RESELLER, "revendeur": OrganisationKind.RESELLER,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ERRORS_KEPT = 200


@dataclass
class Outcome:
    row: object  # line number in a file, or "organisations[3]" in JSON
    kind: str  # organisation, contact
    external_id: str
    label: str
    action: str
    changes: dict = field(default_factory=dict)
    error: str = ""
    values: dict = field(default_factory=dict, repr=False)
    target: object = field(default=None, repr=False)

    @property
    def action_label(self):
        return ACTION_LABELS[self.action]


@dataclass
class Plan:
    outcomes: list
    full: bool

    def count(self, action, kind=None):
        return sum(1 for o in self.outcomes if o.action == action and (kind is None or o.kind == kind))

    @property
    def summary(self):
        return {a: self.count(a) for a in (CREATE, UPDATE, UNCHANGED, DEACTIVATE, ERROR)}

    @property
    def errors(self):
        return [o for o in self.outcomes if o.action == ERROR]


# --- reading the sources ------------------------------------------------------------------


def _text(value, maximum=None):
    if value is None:
        return ""
    value = str(value).strip()
    return value[:maximum] if maximum else value


def _active(value):
    if value in (None, ""):
        return True
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"0", "false", "non", "no", "inactif", "inactive", "n"}
