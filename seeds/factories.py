"""Get-or-create helpers shared by the demo data (seeds/demo.py) and the benchmarks' data generators."""
from app.extensions import db
from app.models import NovaUser, Organisation, OrganisationKind, Product
from app.services.users import create_user


def organisation(name, kind=OrganisationKind.CLIENT, **fields):
    existing = db.session.query(Organisation).filter_by(name=name).one_or_none()
    if existing is not None:
        return existing
    org = Organisation(name=name, kind=kind, **fields)
    db.session.add(org)
    db.session.flush()
    return org


def product(code, name, **fields):
    existing = db.session.query(Product).filter_by(code=code).one_or_none()
    if existing is not None:
        return existing
    item = Product(code=code, name=name, **fields)
    db.session.add(item)
    db.session.flush()
    return item


def user(email, first_name, last_name, role, password, organisation=None, **fields):
    existing = db.session.query(NovaUser).filter_by(email=email.lower()).one_or_none()
    if existing is not None:
        return existing
    return create_user(
        email=email,
        first_name=first_name,
        last_name=last_name,
        password=password,
        role_names=[role] if isinstance(role, str) else list(role),
        organisation=organisation,
        **fields,
    )
