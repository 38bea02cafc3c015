"""What every generated screen (a FAB ModelView) of NovaDesk shares, whatever it shows: yes/no
fields that can be left unticked, confirmations in NovaDesk's words, and, after a save or an
action, a return to the list or record the admin came from. The look of these screens (page
title, buttons, values in words) is in the templates under app/templates/appbuilder/general/."""
from urllib.parse import urlsplit

from flask import request, session, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.utils.base import is_safe_redirect_url
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired


def optional_booleans(form_class):
    """FAB makes a non-nullable boolean a required checkbox, which cannot be unticked: here an
    unticked box is a valid « Non »."""
    if form_class is None:
        return
    for name, unbound in list(vars(form_class).items()):
        if not isinstance(unbound, UnboundField) or not issubclass(unbound.field_class, BooleanField):
            continue
        kwargs = dict(unbound.kwargs)
        kwargs["validators"] = [v for v in kwargs.get("validators") or [] if not isinstance(v, (DataRequired, InputRequired))]
        args = tuple(
            [v for v in arg if not isinstance(v, (DataRequired, InputRequired))] if isinstance(arg, (list, tuple)) else arg
            for arg in unbound.args
        )
        field = UnboundField(unbound.field_class, *args, **kwargs)
        field.creation_counter = unbound.creation_counter  # same place in the form
        setattr(form_class, name, field)


class GeneratedScreen:
    """Mixed into every NovaDesk ModelView (and FAB's own user and role views)."""

    add_row_message = _l("Enregistré.")
    edit_row_message = _l("Modifications enregistrées.")
    delete_row_message = _l("Supprimé.")
    database_error_message = _l("L'enregistrement a échoué ; rien n'a été modifié.")

    def _init_forms(self):
        super()._init_forms()
        optional_booleans(self.add_form)
        optional_booleans(self.edit_form)

    def get_redirect(self):
        """The latest page the admin saw before the form or action they just submitted (the list,
        with its filters and page, or the record), else the screen's list — never the home page."""
        history = [url for url in session.get("page_history") or [] if url]
        while history and urlsplit(history[-1]).path == request.path:
            history.pop()
        url = history.pop() if history else None
        session["page_history"] = history
        if url and is_safe_redirect_url(url):
            return url
        return self._home_of_screen()

    def _home_of_screen(self):
        if "list" in (self.include_route_methods or {"list"}):
            return url_for(f"{self.endpoint}.list")
        return self.appbuilder.get_url_for_index


class NovaModelView(GeneratedScreen, ModelView):
    """The base of NovaDesk's generated screens."""
