"""POST /api/v1/directory/sync: the ERP pushes its client directory (U6). Admins only (their
JWT or an API key issued to them). `?dry_run=1` answers what would change without writing.

Body: see app/services/directory_sync.py. Answer: the counts, the run's id and, per row in
error, where and why:
  {"dry_run": false, "run_id": 12, "created": 3, "updated": 1, "unchanged": 250,
   "deactivated": 0, "errors": [{"row": "contacts[4]", "id": "C-9", "message": "…"}]}
"""
from flask import g, request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.services import ServiceError, directory_sync


class DirectorySyncApi(BaseApi):
    resource_name = "directory"
    class_permission_name = "DirectorySyncApi"
    method_permission_name = {"sync": "post"}
    openapi_spec_tag = "Directory sync"

    @expose("/sync", methods=["POST"])
    @protect()
    @safe
    def sync(self):
        """Upsert organisations and contacts keyed by the ERP's external ids.
        ---
        post:
          summary: Synchronise the client directory from the ERP
          parameters:
          - in: query
            name: dry_run
            schema: {type: boolean}
          requestBody:
            required: true
            content:
              application/json:
                schema: {type: object}
          responses:
            200: {description: What changed (or would change), with each row's error}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/401'}
        """
        payload = request.get_json(silent=True)
        dry_run = request.args.get("dry_run", "").lower() in {"1", "true", "yes"}
        try:
            orgs, contacts = directory_sync.entries_from_json(payload)
            the_plan, run = directory_sync.sync(
                g.user, orgs, contacts, full=bool((payload or {}).get("full")), origin="api", source_label="API", dry_run=dry_run,
            )
        except ServiceError as error:
            db.session.rollback()
            return self.response_400(message=error.message)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        summary = the_plan.summary
        return self.response(
            200,
            dry_run=dry_run,
            run_id=run.id if run else None,
            created=summary["create"],
            updated=summary["update"],
            unchanged=summary["unchanged"],
            deactivated=summary["deactivate"],
            errors=[{"row": str(o.row), "id": o.external_id, "message": o.error} for o in the_plan.errors],
        )
