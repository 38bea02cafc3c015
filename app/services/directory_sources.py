"""The worker's scheduled directory sync (U6): each active source that is due is read — a
CSV/XLSX file dropped in a folder (read again only when it changes), or an HTTP endpoint
answering the sync API's JSON — and synced through app/services/directory_sync.py. Every run,
failed or not, is logged (SyncRun)."""
import json
import os
import urllib.request
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import SyncRun, SyncSource, SyncSourceKind
from app.services import ServiceError, clock, directory_sync

HTTP_TIMEOUT_SECONDS = 30
MAX_BYTES = 200 * 1024 * 1024


def is_due(source, now):
    if source.last_run_on is None:
        return True
    return now - source.last_run_on >= timedelta(minutes=source.interval_minutes or 0)


def run_due_sources():
    """Run every active source that is due; each one commits alone (one failing source never
    holds up the others). Returns how many ran."""
    now = clock.now()
    ran = 0
    for source_id in [s.id for s in db.session.query(SyncSource).filter(SyncSource.active.is_(True)).order_by(SyncSource.id)]:
        source = db.session.get(SyncSource, source_id)
        if not is_due(source, now):
            continue
        if run_source(source) is not None:
            ran += 1
        db.session.commit()
    return ran


def run_source(source, actor=None):
    """Read and sync one source now. Returns its SyncRun, or None when a dropped file has not
    changed since it was last read."""
    label = f"{source.name} ({source.location})"
    source.last_run_on = clock.now()
    try:
        if source.kind == SyncSourceKind.FILE:
            path = drop_path(source.location)
            signature = _file_signature(path)
            if signature == source.last_file_signature:
                return None
            with open(path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise ServiceError(_("Fichier trop volumineux."))
            orgs, contacts = directory_sync.entries_from_file(source.location, data)
            full = source.full
        else:
            payload = _fetch_json(source.location)
            orgs, contacts = directory_sync.entries_from_json(payload)
            full = source.full and payload.get("full", True) is not False
        with db.session.begin_nested():
            run = directory_sync.sync(actor, orgs, contacts, full=full, origin="scheduled", source=source, source_label=label)[1]
        if source.kind == SyncSourceKind.FILE:
            source.last_file_signature = signature
        return run
    except (ServiceError, OSError, ValueError) as failure:
        message = failure.message if isinstance(failure, ServiceError) else f"{type(failure).__name__}: {failure}"
        run = SyncRun(kind="directory", origin="scheduled", source=source, source_label=label[:500], actor_id=getattr(actor, "id", None), started_on=clock.now(), finished_on=clock.now(), failure=message[:2000])
        db.session.add(run)
        db.session.flush()
        return run


def drop_path(location):
    """The file's real path, which must lie in the drop folder (DIRECTORY_DROP_FOLDER): a
    source never reads anything else on the server. Relative paths are inside that folder."""
    folder = os.path.realpath(current_app.config["DIRECTORY_DROP_FOLDER"])
    path = os.path.realpath(os.path.join(folder, location))
    if os.path.commonpath([folder, path]) != folder:
        raise ServiceError(_("Le fichier doit se trouver dans le dossier de dépôt (%(folder)s).", folder=folder))
    return path


def _file_signature(path):
    stat = os.stat(path)
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _fetch_json(url):
    if not url.lower().startswith(("http://", "https://")):
        raise ServiceError(_("L'adresse doit commencer par http:// ou https://."))
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "NovaDesk directory sync"})
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310 (admin-configured URL)
        data = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ServiceError(_("Réponse trop volumineuse."))
    payload = json.loads(data.decode("utf-8-sig"))
    if not isinstance(payload, dict):
        raise ServiceError(_("La réponse doit être un objet JSON avec « organisations » et « contacts »."))
    return payload
