"""NovaDesk's FAB security manager: our user model, login with a second factor, audit.

It plugs NovaDesk's sign-in pages and API into FAB and asks the services, so it sits with the
adapters in the layers (README, "Layers"), above views and API, though FAB finds it here."""
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role

from app.api.auth import NovaSecurityApi
from app.extensions import db
from app.models import NovaUser
from app.security.passwords import check_password
from app.services import sessions
from app.services.api_keys import READ_PERMISSIONS, is_read_only
from app.services.api_keys import TOUCH_SECONDS as API_KEY_TOUCH_SECONDS
from app.services.auth import LoginRefused, check_password_login
from app.views.auth import NovaAuthView
from app.views.users import (
    NovaResetMyPasswordView,
    NovaResetPasswordView,
    NovaRoleModelView,
    NovaUserDBModelView,
    NovaUserInfoEditView,
    UnusedGroupView,
)


class NovaSecurityManager(SecurityManager):
    user_model = NovaUser
    userstatschartview = None  # FAB's chart view loads Google's servers

    def __init__(self, appbuilder):
        self.authdbview = NovaAuthView
        self.userdbmodelview = NovaUserDBModelView
        self.userinfoeditview = NovaUserInfoEditView
        self.security_api = NovaSecurityApi
        self.rolemodelview = NovaRoleModelView
        self.groupmodelview = UnusedGroupView
        self.resetmypasswordview = NovaResetMyPasswordView
        self.resetpasswordview = NovaResetPasswordView
        super().__init__(appbuilder)
        babel = current_app.extensions.get("babel")
        if babel is not None:
            babel.timezone_selector = _user_timezone

    def register_views(self):
        super().register_views()
        # NovaDesk grants rights through roles only; FAB's user groups would bypass scopes.py.
        security_menu = self.appbuilder.menu.find("Security")
        if security_menu is not None:
            # Roles are reached through the permission matrix ("Permission Matrix", views/__init__.py).
            security_menu.childs = [item for item in security_menu.childs if item.name not in ("List Groups", "List Roles")]
        # FAB's limiter covers the login form only; the API's token endpoint needs it too.
        if current_app.config.get("RATELIMIT_ENABLED"):
            api_blueprint = current_app.blueprints.get("NovaSecurityApi")
            if api_blueprint is not None:
                self.limiter.limit(current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])(api_blueprint)

    def _has_view_access(self, user, permission_name, view_name):
        """FAB asks the database once per menu entry and per check; NovaDesk reads the
        roles' permissions once per request (a page checks a dozen of them)."""
        if getattr(g, "_api_key_read_only", False):
            if permission_name not in READ_PERMISSIONS:
                return False  # a read-only key: its user's rights, minus every write
        role_ids = tuple(sorted(role.id for role in self.get_user_roles(user) if role is not None))
        cache = g.setdefault("novadesk_permissions", {})
        if role_ids not in cache:
            cache[role_ids] = self._permissions_of_roles(role_ids)
        return (permission_name, view_name) in cache[role_ids]

    def _permissions_of_roles(self, role_ids):
        if not role_ids:
            return frozenset()
        rows = (
            self.session.query(self.permission_model.name, self.viewmenu_model.name)
            .select_from(assoc_permissionview_role)
            .join(self.permissionview_model, self.permissionview_model.id == assoc_permissionview_role.c.permission_view_id)
            .join(self.permission_model, self.permission_model.id == self.permissionview_model.permission_id)
            .join(self.viewmenu_model, self.viewmenu_model.id == self.permissionview_model.view_menu_id)
            .filter(assoc_permissionview_role.c.role_id.in_(role_ids))
            .all()
        )
        return frozenset(rows)

    def load_user(self, pk):
        """The session cookie's person, only while their server-side session is open: a
        cookie kept after sign-out, a password change or « end all sessions » is worthless."""
        user = super().load_user(pk)
        if user is None:
            return None
        if not self._session_still_open(user, session.get(sessions.COOKIE_KEY)):
            session.clear()
            return None
        if session.get("locale") is None:
            session["locale"] = user.locale
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """An API token's person, only while the sign-in that issued it (`sid`) is open."""
        try:
            user = db.session.get(NovaUser, int(jwt_data["sub"]))
        except (KeyError, TypeError, ValueError):
            return None
        if user is None or not user.active or not self._session_still_open(user, jwt_data.get("sid")):
            return None
        g.user = user
        return user

    @staticmethod
    def _session_still_open(user, key):
        record = sessions.live_session(user.id, key)
        if record is None:
            return False
        if sessions.needs_touch(record):
            sessions.touch(record)
            db.session.commit()  # the request's first statement: nothing else is pending yet
        return True

    def validate_api_key(self, api_key_string):
        """FAB's check, loading NovaDesk's user (FAB's relationship yields its base class)
        and keeping the hash check off the gevent hub."""
        api_key = (
            db.session.query(self.api_key_model)
            .filter(self.api_key_model.lookup_hash == self._compute_lookup_hash(api_key_string))
            .one_or_none()
        )
        if api_key is None or not api_key.is_active or not check_password(api_key.key_hash, api_key_string):
            return None
        user = db.session.get(NovaUser, api_key.user_id)
        if user is None or not user.active:
            return None
        now = datetime.now()
        if api_key.last_used_on is None or api_key.last_used_on < now - timedelta(seconds=API_KEY_TOUCH_SECONDS):
            api_key.last_used_on = now  # the last use to the minute: a write and a commit per minute, not per request
            db.session.commit()
        g.user = user
        g._api_key_user = True
        g._api_key_read_only = is_read_only(api_key.scopes)
        return user

    def auth_user_db(self, username, password):
        """FAB's own callers (e.g. `flask fab` commands) get the same checks as our login."""
        try:
            return check_password_login(username, password)
        except LoginRefused:
            return None


def _user_timezone():
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "timezone", None):
        return user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]
