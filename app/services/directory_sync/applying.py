"""Applying a plan, and the record of a run."""
from flask import current_app

from app.extensions import db
from app.models import NovaUser, Organisation, SyncRun
from app.security import roles as role_catalogue
from app.services import audit, clock, users
from app.services.directory_sync.common import CREATE, DEACTIVATE, ERROR, MAX_ERRORS_KEPT, UNCHANGED, UPDATE
from app.services.directory_sync.planning import plan

# --- applying it ----------------------------------------------------------------------------


def apply(actor, the_plan):
    """Write the plan's rows that are not in error; flushes, the caller commits."""
    orgs = {o.external_id: o for o in db.session.query(Organisation).filter(Organisation.external_id.isnot(None))}
    pending_resellers = []
    for outcome in the_plan.outcomes:
        if outcome.kind != "organisation" or outcome.action not in (CREATE, UPDATE):
            continue
        values = outcome.values
        org = outcome.target or Organisation(external_id=outcome.external_id, email_domains="")
        for key in ("name", "kind", "active", "account_manager_id", "email_domains", "phone"):
            if key in values:
                setattr(org, key, values[key])
        if outcome.target is None:
            db.session.add(org)
            orgs[outcome.external_id] = org
        if "reseller_external_id" in values:
            pending_resellers.append((org, values["reseller_external_id"]))
    for org, reseller_id in pending_resellers:
        org.reseller = orgs[reseller_id]
    db.session.flush()
    sm = current_app.appbuilder.sm
    roles = {name: sm.find_role(name) for name in (role_catalogue.CLIENT, role_catalogue.RESELLER)}
    for outcome in the_plan.outcomes:
        if outcome.kind != "contact" or outcome.action == ERROR or outcome.action == UNCHANGED:
            continue
        if outcome.action == DEACTIVATE:
            outcome.target.active = False
            continue
        values = outcome.values
        user = outcome.target if isinstance(outcome.target, NovaUser) else None
        if user is None:
            user = NovaUser(username=values["email"], password=None, timezone=users.timezone_for(orgs[values["organisation_external_id"]]), roles=[roles[values["role"]]])
            db.session.add(user)
        elif values["role"] not in user.role_names:
            other = role_catalogue.CLIENT if values["role"] == role_catalogue.RESELLER else role_catalogue.RESELLER
            user.roles = [r for r in user.roles if r.name != other] + [roles[values["role"]]]
        user.external_id = outcome.external_id
        user.first_name, user.last_name = values["first_name"], values["last_name"]
        user.email = user.username = values["email"]
        user.phone = values["phone"]
        user.organisation = orgs[values["organisation_external_id"]]
        user.active = values["active"]
    db.session.flush()
    return the_plan


def sync(actor, orgs, contacts, *, full=False, origin, source_label, source=None, dry_run=False):
    """Plan, then (unless a dry run) apply and log the run. Returns (plan, run or None)."""
    the_plan = plan(orgs, contacts, full=full)
    if dry_run:
        return the_plan, None
    run = SyncRun(kind="directory", origin=origin, source=source, source_label=source_label[:500], actor_id=getattr(actor, "id", None), started_on=clock.now())
    apply(actor, the_plan)
    record_run(run, the_plan)
    db.session.add(run)
    audit.record(db.session, "directory.synced", actor=actor, details={"source": source_label[:200], **the_plan.summary})
    db.session.flush()
    return the_plan, run


def record_run(run, the_plan):
    summary = the_plan.summary
    run.created, run.updated, run.unchanged = summary[CREATE], summary[UPDATE], summary[UNCHANGED]
    run.deactivated, run.errors = summary[DEACTIVATE], summary[ERROR]
    run.error_details = [{"row": str(o.row), "id": o.external_id, "message": o.error} for o in the_plan.errors[:MAX_ERRORS_KEPT]] or None
    run.finished_on = clock.now()
