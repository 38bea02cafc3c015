"""The permission matrix (U1): what each role may do, in words, changed in one save.

Reads FAB's permission/view pairs through the catalogue of rights (security/rights.py),
works out what a save would change (nothing is applied before the admin confirms), and
applies it: the rights' pairs are granted or withdrawn, the menu entries follow from them,
and the change lands in the activity log through the same hook as every role edit.
"""
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.security import rights as catalogue
from app.security.roles import ADMIN, ROLE_LABELS
from app.services import ServiceError

ALL, SOME, NONE = "all", "some", "none"
_ROLE_ORDER = [ADMIN, "Supervisor", "Agent", "Commercial", "Client", "Reseller"]


@dataclass
class Row:
    key: str
    label: str
    source_label: str
    group: str
    pvs: list
    cells: dict = field(default_factory=dict)  # role id -> ALL / SOME / NONE

    @property
    def technical(self):
        return [f"{pv.permission.name} on {pv.view_menu.name}" for pv in self.pvs]


@dataclass
class Column:
    role: object
    label: str
    editable: bool


@dataclass
class Matrix:
    columns: list
    groups: list  # [(key, label, [Row, …]), …]

    @property
    def rows(self):
        return [row for _key, _label, rows in self.groups for row in rows]

    def row(self, key):
        return next((row for row in self.rows if row.key == key), None)

    def column(self, role_id):
        return next((column for column in self.columns if column.role.id == role_id), None)


@dataclass
class Change:
    role: object
    row: Row
    grant: bool

    @property
    def token(self):
        return f"{'grant' if self.grant else 'revoke'}:{self.role.id}:{self.row.key}"


def _sm():
    return current_app.appbuilder.sm


def role_label(role):
    return str(ROLE_LABELS.get(role.name, role.name))


def _roles(only_role_id=None):
    sm = _sm()
    # The anonymous visitors' role stays empty: the help centre and the widget are opened by code.
    roles = [role for role in db.session.query(sm.role_model).all() if role.name != sm.auth_role_public]
    roles.sort(key=lambda r: (_ROLE_ORDER.index(r.name) if r.name in _ROLE_ORDER else len(_ROLE_ORDER), r.name.lower()))
    if only_role_id is not None:
        roles = [role for role in roles if role.id == only_role_id]
    return roles


def _permission_views():
    sm = _sm()
    return [
        pv for pv in db.session.query(sm.permissionview_model).all()
        if pv.permission is not None and pv.view_menu is not None and pv.permission.name != catalogue.MENU_PERMISSION
    ]


def load_matrix(only_role_id=None):
    """Every right (and every permission no right names yet, under « Autres ») × every role."""
    columns = [Column(role, role_label(role), role.name != ADMIN) for role in _roles(only_role_id)]
    by_pair = {(pv.view_menu.name, pv.permission.name): pv for pv in _permission_views()}
    claimed = set()
    groups = []
    for group_key, group_label in catalogue.GROUPS:
        rows = []
        for right in catalogue.RIGHTS:
            if right.group != group_key:
                continue
            pvs = [by_pair[pair] for pair in right.pairs if pair in by_pair]
            if not pvs:  # a screen this installation does not have
                continue
            claimed.update(right.pairs)
            rows.append(Row(right.key, str(right.label), right.source_label, group_key, pvs))
        if rows:
            groups.append((group_key, str(group_label), rows))
    others = [
        Row(f"pv:{pv.id}", f"{pv.permission.name} on {pv.view_menu.name}", f"{pv.permission.name} on {pv.view_menu.name}", "others", [pv])
        for pair, pv in sorted(by_pair.items()) if pair not in claimed
    ]
    if others:
        groups.append((catalogue.OTHERS_GROUP[0], str(catalogue.OTHERS_GROUP[1]), others))
    for column in columns:
        held = {pv.id for pv in column.role.permissions}
        for _key, _label, rows in groups:
            for row in rows:
                count = sum(1 for pv in row.pvs if pv.id in held)
                row.cells[column.role.id] = ALL if count == len(row.pvs) else SOME if count else NONE
    return Matrix(columns, groups)


def plan_changes(matrix, checked):
    """What the submitted grid changes: `checked` holds the "<role id>:<right>" of every ticked
    box of the roles shown. A right held in part counts as unticked: left alone unless ticked."""
    changes = []
    for column in matrix.columns:
        if not column.editable:
            continue
        for row in matrix.rows:
            wanted = f"{column.role.id}:{row.key}" in checked
            if wanted != (row.cells[column.role.id] == ALL):
                changes.append(Change(column.role, row, wanted))
    return changes


def parse_changes(matrix, tokens):
    """The changes a confirmation form carries back ("grant:<role id>:<right>"); anything
    that does not name an editable role and a known right is refused as a whole."""
    changes = []
    for token in tokens:
        action, _sep, rest = (token or "").partition(":")
        role_id, _sep, key = rest.partition(":")
        column = matrix.column(int(role_id)) if role_id.isdigit() else None
        row = matrix.row(key)
        if action not in ("grant", "revoke") or column is None or row is None:
            raise ServiceError(_("Ces changements ne correspondent plus à la matrice : recommencez."))
        if not column.editable:
            raise ServiceError(_("Le rôle Administrateur a toujours tous les droits : il ne se modifie pas."))
        changes.append(Change(column.role, row, action == "grant"))
    if not changes:
        raise ServiceError(_("Aucun changement à enregistrer."))
    return changes


def summarise(changes):
    """Per role, the rights added and withdrawn, in words: [(role label, [added], [removed]), …]."""
    by_role = {}
    for change in changes:
        entry = by_role.setdefault(change.role.id, (role_label(change.role), [], []))
        (entry[1] if change.grant else entry[2]).append(change.row.label)
    return list(by_role.values())


def apply_changes(actor, changes):
    """Grant or withdraw each right, then the menu entries that follow; flushed, not committed.
    The role edit is logged by the activity hook, with the rights named in words."""
    sm = _sm()
    touched = {}
    with db.session.no_autoflush:  # one flush: one log entry per role, with its words
        _apply(sm, actor, changes, touched)
    db.session.info.setdefault("novadesk_role_rights", {}).update({role.id: words for role, words in touched.items()})
    db.session.flush()
    return list(touched)


def _apply(sm, actor, changes, touched):
    for change in changes:
        if change.role.name == ADMIN:
            raise ServiceError(_("Le rôle Administrateur a toujours tous les droits : il ne se modifie pas."))
        role = change.role
        words = touched.setdefault(role, {"added": [], "removed": []})
        _set_held(role, change.row.pvs, change.grant)
        words["added" if change.grant else "removed"].append(change.row.source_label)
    for role in touched:
        _derive_menus(sm, role)
    _keep_own_administration(actor)


def _keep_own_administration(actor):
    """Nobody withdraws from themselves the right to come back to this screen."""
    if actor is None:
        return
    mine = [role for role in getattr(actor, "roles", []) if role is not None]
    if any(role.name == ADMIN for role in mine):
        return
    if not any((pv.view_menu.name, pv.permission.name) == (catalogue.MATRIX_VIEW, catalogue.MATRIX_PERMISSION) for role in mine for pv in role.permissions):
        raise ServiceError(_("Vous ne pouvez pas retirer à vos propres rôles le droit de gérer les rôles."))


def _derive_menus(sm, role):
    """A menu entry is granted when the role may open the page it leads to (that page's
    permission, or any right on the screen when the page has none of its own), a menu group
    when any of its entries is; links to pages without permissions keep their state."""
    menu_pvs = {
        pv.view_menu.name: pv
        for pv in db.session.query(sm.permissionview_model).join(sm.permission_model).filter(sm.permission_model.name == catalogue.MENU_PERMISSION)
    }
    held = {(pv.view_menu.name, pv.permission.name) for pv in role.permissions if pv.permission.name != catalogue.MENU_PERMISSION}
    held_views = {view for view, _permission in held}
    existing = {(pv.view_menu.name, pv.permission.name) for pv in _permission_views()}
    grants, withdrawals = set(), set()

    def opens(view):
        """The entry opens the screen's landing page: that page's permission when it has one,
        else any right on the screen."""
        name = view.class_permission_name
        landing = (name, _landing_permission(view))
        return landing in held if landing in existing else name in held_views

    def walk(items):
        any_granted = False
        for item in items:
            if item.childs:
                granted = walk(item.childs)
            elif item.baseview is not None and getattr(item.baseview, "class_permission_name", None):
                granted = opens(item.baseview)
            else:
                granted = None
            pv = menu_pvs.get(item.name)
            if pv is not None and granted is not None:
                (grants if granted else withdrawals).add(pv)
            if granted is None:
                granted = pv is not None and pv in role.permissions
            any_granted = any_granted or granted
        return any_granted

    walk(current_app.appbuilder.menu.get_list())
    _set_held(role, grants, True)
    _set_held(role, withdrawals, False)


def _set_held(role, pvs, held):
    """Changed in place, so that the activity hook sees exactly what came and went."""
    for pv in pvs:
        if held and pv not in role.permissions:
            role.permissions.append(pv)
        elif not held and pv in role.permissions:
            role.permissions.remove(pv)


def _landing_permission(view):
    method_name = view.default_view
    permission = (getattr(view, "method_permission_name", None) or {}).get(method_name)
    permission = permission or getattr(getattr(view, method_name, None), "_permission_name", None) or method_name
    return f"can_{permission}"


def csv_rows(matrix):
    """The matrix for an audit: a row per right, technical names kept, one column per role."""
    words = {ALL: _("oui"), SOME: _("en partie"), NONE: _("non")}
    header = [_("Domaine"), _("Droit"), _("Permissions techniques")] + [
        column.label if column.label == column.role.name else f"{column.label} ({column.role.name})" for column in matrix.columns
    ]
    rows = [header]
    for _key, group_label, group_rows in matrix.groups:
        for row in group_rows:
            rows.append([group_label, row.label, " | ".join(row.technical)] + [words[row.cells[c.role.id]] for c in matrix.columns])
    return rows
