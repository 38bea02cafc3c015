"""NovaDesk: the application factory."""
import logging
import os

from flask import Flask
from flask_appbuilder import AppBuilder

from app.compression import install_compression
from app.extensions import csrf, db, mail, migrate


def create_app(overrides=None):
    from config import Config

    app = Flask(__name__, instance_path=Config.INSTANCE_DIR)
    from app.security import bounds

    bounds.install(app)  # before any route exists: every `<int:…>` is bounded
    app.config.from_object(Config)
    if overrides:
        app.config.update(overrides)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(logging.INFO)

    db.init_app(app)
    _tune_sqlite(app)
    from app.models.kb import include_in_schema_comparison

    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True,
        include_object=include_in_schema_comparison,
    )
    mail.init_app(app)
    csrf.init_app(app)
    install_compression(app)  # slow links: pages, scripts and styles travel compressed

    with app.app_context():
        from app import models  # noqa: F401  (registers every table)
        from app.api import register_apis
        from app.security.hardening import install_security_headers
        from app.views import register_views

        # Permissions are synced here only once the schema exists; `flask novadesk init`
        # syncs them right after migrating a new database.
        app.config.setdefault("FAB_UPDATE_PERMS", _schema_ready())
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        register_apis(appbuilder)
        _exempt_api_from_csrf(appbuilder)
        install_security_headers(app)
        from app.formatting import file_size, local_datetime, screen_value

        app.jinja_env.globals.update(local_datetime=local_datetime, file_size=file_size)
        app.jinja_env.filters["nd_value"] = screen_value
        app.jinja_env.filters["nd_day"] = lambda iso: f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"

    from app import cli, proxies, worker
    from app.channels.mail_in import ImapReader
    from app.realtime import emit_event, init_realtime
    from app.services import audit, events, mail_reading, rollups, uploads
    from app.services import mail as outgoing_mail

    init_realtime(app)
    proxies.install(app)  # outermost, so Socket.IO's handshakes see the client's address too
    cli.register(app)
    events.install()  # what services publish leaves after the commit, through these sinks:
    for sink in (emit_event, worker.on_event, uploads.remove_files_on_event, outgoing_mail.log_kept_mail):
        events.add_sink(sink)
    audit.install()
    rollups.install()  # the reports' per-day sums follow every ticket change, in its transaction
    mail_reading.install(app, ImapReader())  # how the worker and the services read mailboxes
    worker.maybe_start_in_process(app)
    return app


def _exempt_api_from_csrf(appbuilder):
    """FAB's REST API authenticates by token, never by the session cookie: no CSRF there."""
    from flask_appbuilder.api import BaseApi

    for view in appbuilder.baseviews:
        if isinstance(view, BaseApi) and view.blueprint is not None:
            csrf.exempt(view.blueprint)


def _tune_sqlite(app):
    """WAL lets readers work while one request writes; NORMAL sync is safe with WAL. The file
    is read through a memory map (shared by every connection, no copy per read) with a 32 MB
    page cache per connection: reports read tens of thousands of rows spread over the file."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.close()


def _schema_ready():
    from sqlalchemy import inspect

    try:
        return inspect(db.engine).has_table("ab_permission_view")
    except Exception:  # database unreachable: /health will say so
        return False
