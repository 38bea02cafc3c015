"""The scopes' FAB filters; they live in app/web/scoping.py, shared with the API."""
from app.web.scoping import PartnerOrganisations, VisibleToCurrentUser, scoped, visible_rows  # noqa: F401
