"""Export and erase a person through every holder, then the sweep of every text column."""
from flask_babel import gettext as _
from sqlalchemy import JSON, String, Text, select, update

from app.extensions import db
from app.services import ServiceError, audit, clock
from app.services.personal_data.common import HOLDERS, PSEUDONYM_DOMAIN, _iso, _mentions, pseudonym_for, scrubber

# --- the sweep: every text column of every table ---------------------------------------------------


def text_columns():
    """(table, column) for every column that can hold text, in every table of the schema."""
    for table in db.metadata.sorted_tables:
        primary = [c for c in table.primary_key.columns]
        if len(primary) != 1:
            continue
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON)) and not column.primary_key:
                yield table, column, primary[0]


def _sweep(person, pseudonym, scrub):
    """Whatever no holder knew about: scrub it where it is."""
    count = 0
    for table, column, key in text_columns():
        if table.name in ("ab_user",) and column.name in ("password",):
            continue
        is_json = isinstance(column.type, JSON)
        target = column.cast(Text) if is_json else column
        rows = db.session.execute(select(key, column).where(_mentions(target, person, json_text=is_json))).all()
        for ident, value in rows:
            cleaned = scrub(value)
            if cleaned != value:
                db.session.execute(update(table).where(key == ident).values({column.name: cleaned}))
                count += 1
    return count


# --- the doors --------------------------------------------------------------------------------------


def export(person):
    """Everything held about the person, per holder (holders with nothing are left out)."""
    data = {"person": {"email": person.email, "names": person.names, "phones": person.phones}, "exported_on": _iso(clock.now()), "holders": {}}
    for holder in HOLDERS:
        held = holder.export(person)
        if held:
            data["holders"][holder.name] = {"label": holder.label, "data": held}
    return data


def erase(actor, person, remove_files=True):
    """Anonymise the person everywhere; flushes, the caller commits (the files go once that
    is done: a `files.removed` event). Returns the counts per holder."""
    if person.user is not None and actor is not None and person.user.id == actor.id:
        raise ServiceError(_("Vous ne pouvez pas effacer vos propres données depuis votre compte."))
    if person.email.endswith("@" + PSEUDONYM_DOMAIN):
        raise ServiceError(_("Cette personne est déjà anonymisée."))
    pseudonym = pseudonym_for(person)
    scrub = scrubber(person, pseudonym)
    counts = {}
    for holder in HOLDERS:
        if holder.name == "files":
            counts[holder.name] = holder.erase(person, pseudonym, scrub, remove_files=remove_files)
        else:
            counts[holder.name] = holder.erase(person, pseudonym, scrub)
        db.session.flush()  # the audit hook logs changed accounts now, so the sweep sees it
    counts["sweep"] = _sweep(person, pseudonym, scrub)
    audit.record(db.session, "personal_data.erased", actor=actor, subject_user=person.user, details={"pseudonym": pseudonym, "counts": counts})
    db.session.flush()
    return counts
