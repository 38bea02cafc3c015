"""The one rule for the text of a ticket (its title, its messages), whatever door it came in by.

1. Control characters (NUL, escape sequences, bell…) are removed everywhere: they are never
   meant as text, break exports and terminals, and PostgreSQL refuses NUL. Tabs and line
   breaks are kept; surrounding blanks are trimmed.
2. Text over the limit (TITLE_MAX, BODY_MAX):
   - from an interactive door (the web form, the API, a reply typed on the site) it is
     REFUSED with a French message naming the field and the limit: the person is there to
     shorten it, and nothing is stored behind their back;
   - from an unattended door (an e-mail, a chat transcript, the previous help desk's import)
     it is CUT and the cut is MARKED at the end (« […] texte coupé ») so a reader knows part
     is missing: refusing would lose the client's message, since nobody is there to send it
     again, and the full original stays where it came from (the raw mail, the chat, the
     export).
3. Empty text is refused from an interactive door; from an unattended one it becomes a
   visible placeholder (« (sans objet) », « (message vide) »).
"""
import re

from flask_babel import gettext as _

from app.services import ServiceError

TITLE_MAX = 200
BODY_MAX = 20000

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never meant as text; tabs and newlines kept


def without_control_characters(value):
    return CONTROL_CHARACTERS.sub("", str(value or "")).strip()


def cut_mark():
    return " " + _("[…] texte coupé")


def clean_text(value, field, maximum, *, interactive, required=True, placeholder=None):
    """`value` cleaned by the rule above; `field` names it in a refusal."""
    value = without_control_characters(value)
    if not value:
        if interactive and required:
            raise ServiceError(_("Ce champ est obligatoire : %(field)s.", field=field), {field: "required"})
        return value if interactive or placeholder is None else placeholder
    if len(value) > maximum:
        if interactive:
            raise ServiceError(_("%(field)s : %(n)s caractères au plus.", field=field, n=maximum), {field: "too_long"})
        mark = cut_mark()
        value = value[: maximum - len(mark)].rstrip() + mark
    return value


def clean_title(value, *, interactive):
    return clean_text(value, _("Titre"), TITLE_MAX, interactive=interactive, placeholder=_("(sans objet)"))


def clean_body(value, *, interactive, required=True):
    return clean_text(value, _("Message"), BODY_MAX, interactive=interactive, required=required, placeholder=_("(message vide)"))
