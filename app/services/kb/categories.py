"""Categories of the knowledge base: fields, rights, creation and removal."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import KbArticle, KbCategory, Visibility
from app.services import ServiceError
from app.services.kb.common import _check_writer, _choice, _id, _organisations, _text

# --- categories -----------------------------------------------------------------------


def _category_fields(category, *, name, parent_id=None, description=None, position=0, visibility=None, organisation_ids=(), icon=None):
    category.name = name
    category.parent_id = _id(parent_id)
    category.parent = db.session.get(KbCategory, category.parent_id) if category.parent_id else None
    category.description = _text(description, _("Description"), 1000)
    category.icon = _text(icon, _("Icône"), 40) or None
    try:
        category.position = int(position or 0)
    except (TypeError, ValueError):
        raise ServiceError(_("L'ordre doit être un nombre."))
    category.visibility = visibility or Visibility.PUBLIC
    category.organisations = _organisations(organisation_ids) if category.visibility == Visibility.ORGANISATIONS else []


def check_category(actor, category):
    """The rules of a category, however it was filled in (service call or admin screen)."""
    _check_writer(actor)
    category.name = _text(category.name, _("Nom"), 150, required=True)
    ancestor = category.parent
    if category.parent_id is not None and ancestor is None:
        ancestor = db.session.get(KbCategory, category.parent_id)
        if ancestor is None:
            raise ServiceError(_("Thème parent inconnu."))
    depth = 0
    while ancestor is not None and depth < 50:  # a category cannot sit under itself
        if ancestor is category or (category.id is not None and ancestor.id == category.id):
            raise ServiceError(_("Un thème ne peut pas être rangé sous lui-même."))
        ancestor, depth = ancestor.parent, depth + 1
    _choice(category.visibility, Visibility.ALL, _("Visibilité"))
    if category.visibility == Visibility.ORGANISATIONS and not category.organisations:
        raise ServiceError(_("Choisissez au moins une organisation."))
    if any(o.kind == "vendor" or o.holds_unidentified for o in category.organisations):
        raise ServiceError(_("Un thème ne s'adresse qu'à des organisations partenaires."))
    if category.visibility != Visibility.ORGANISATIONS:
        category.organisations = []


def create_category(actor, **fields):
    _check_writer(actor)
    category = KbCategory()
    _category_fields(category, **fields)
    check_category(actor, category)
    db.session.add(category)
    db.session.flush()
    return category


def check_category_removable(actor, category):
    _check_writer(actor)
    if category.children or db.session.query(KbArticle.id).filter_by(category_id=category.id).first():
        raise ServiceError(_("Ce thème contient des articles ou des sous-thèmes : déplacez-les d'abord."))
