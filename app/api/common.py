"""What every NovaDesk API resource shares: reads through scopes.py (FAB base filters), the
generated routes trimmed to reads (no `_info`, `related` or `distinct`: they list related rows
unscoped), pages of at most 100 rows, and writes that call a service then commit once."""
import prison
from flask import request
from flask_appbuilder.api import ModelRestApi

from app.extensions import db
from app.security import scopes
from app.security.bounds import MAX_ID  # one bound for every id, web and API
from app.services import ServiceError

READ_ROUTES = {"get", "get_list"}
QUERY_MAX_LENGTH = 4000
QUERY_MAX_DEPTH = 12  # rison nesting: prison parses recursively and overflows on "((((…"


def _has_huge_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return abs(value) > MAX_ID
    if isinstance(value, dict):
        return any(_has_huge_number(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_huge_number(v) for v in value)
    return False


class ScopedApi(ModelRestApi):
    allow_browser_login = False  # tokens and API keys only: the session cookie is never enough
    include_route_methods = READ_ROUTES
    max_page_size = 100
    page_size = 20

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(self._refuse_unreadable_query)
        return blueprint

    def _refuse_unreadable_query(self):
        """A `q` too long or too deeply nested is refused with 400 before FAB's parser sees it."""
        pk = (request.view_args or {}).get("pk")
        if pk is not None and not (str(pk).isdigit() and 0 < int(pk) <= MAX_ID):
            return self.response_404()  # no row has such an id (and the database would refuse it)
        query = request.args.get("q")
        if query is None:
            return None
        depth = deepest = 0
        for char in query:
            depth += char == "("
            depth -= char == ")"
            deepest = max(deepest, depth)
        if len(query) > QUERY_MAX_LENGTH or deepest > QUERY_MAX_DEPTH:
            return self.response_400(message="Paramètre q illisible (trop long ou trop imbriqué).")
        try:
            parsed = prison.loads(query)  # an unterminated "(((" sends the parser into endless recursion
        except RecursionError:
            return self.response_400(message="Paramètre q illisible (rison mal formé).")
        except Exception:
            return None  # FAB's own parse answers 400 with its message
        if _has_huge_number(parsed):
            return self.response_400(message="Paramètre q : nombre hors limites.")
        return None

    def run_service(self, action, status=200, result=None):
        """Call `action()` (a service call) and commit; a refusal rolls back and answers
        422 {"message", "errors"}, a missing or forbidden object 404."""
        try:
            value = action()
        except scopes.NotVisible:
            db.session.rollback()
            return self.response_404()
        except ServiceError as error:
            db.session.rollback()
            if error.not_found:
                return self.response_404()
            return self.response(422, message=error.message, errors=error.errors)
        db.session.commit()
        return self.response(status, **(result(value) if result else {}))

    def shown(self, item):
        return {"id": item.id, "result": self.show_model_schema.dump(item)}
