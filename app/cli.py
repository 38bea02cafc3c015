"""`flask novadesk …` commands."""
import sys

import click
from flask import current_app
from flask_migrate import upgrade

from app.channels import mail_in
from app.extensions import db
from app.security.encryption import SecretUnreadable
from app.security.roles import sync_roles
from app.services import ServiceError, encryption_keys, ticket_config, ticket_import
from app.worker import run_forever


def sync_permissions_and_roles(reset_roles=False):
    appbuilder = current_app.appbuilder
    # FAB grants each new permission to the Admin role as it creates it, and stops at the
    # first permission of a view when that role is missing: create the role first.
    for name in (appbuilder.sm.auth_role_admin, appbuilder.sm.auth_role_public):
        if appbuilder.sm.find_role(name) is None:
            appbuilder.sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)
    sync_roles(appbuilder.sm, reset=reset_roles)
    ticket_config.ensure_defaults()
    db.session.commit()


def register(app):
    group = click.Group("novadesk", help="NovaDesk administration.")

    @group.command("init")
    @click.option("--demo/--no-demo", default=True, help="Load the demo data when the database is empty.")
    def init(demo):
        """Migrate the database, sync permissions and roles, load demo data if empty."""
        upgrade()
        sync_permissions_and_roles()
        if demo:
            from seeds.demo import load_demo_if_empty

            click.echo(load_demo_if_empty())

    @group.command("sync-roles")
    @click.option("--reset", is_flag=True, help="Give the catalogue roles their default permissions back.")
    def sync_roles_command(reset):
        """Create missing roles and permissions."""
        sync_permissions_and_roles(reset_roles=reset)
        click.echo("Roles and permissions are up to date.")

    @group.command("seed")
    def seed():
        """Load (or complete) the demo data; running it again changes nothing."""
        from seeds.demo import load_demo

        sync_permissions_and_roles()
        click.echo(load_demo())

    @group.command("rebuild-figures")
    def rebuild_figures():
        """Count the reports' per-day ticket figures again from the tickets (after rows were
        written around the application, e.g. by bench/generate_tickets.py)."""
        import time

        from app.extensions import db
        from app.services import rollups

        started = time.perf_counter()
        rollups.rebuild_in_sql(db.session.connection())
        db.session.commit()
        click.echo(f"Per-day ticket figures counted again in {time.perf_counter() - started:.1f} s.")

    @group.command("worker")
    def worker():
        """Run the background worker in this process (scaled-out deployments)."""
        run_forever(current_app._get_current_object())

    @group.command("import-tickets")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Show what would be imported; write nothing.")
    @click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="JSON file mapping old statuses, types, priorities.")
    def import_tickets(path, dry_run, mapping):
        """Import tickets from the previous help desk (JSON, CSV, XLSX or ZIP export).

        Files named by the export are read next to it. Tickets already imported (same
        original number) are left alone; rows in error are listed and skipped."""
        try:
            export = ticket_import.read_export_path(path, ticket_import.load_mapping_file(mapping) if mapping else None)
            the_plan, run = ticket_import.import_tickets(None, export, origin="cli", dry_run=dry_run)
        except ServiceError as error:
            db.session.rollback()
            raise click.ClickException(error.message)
        for outcome in the_plan.outcomes:
            if outcome.action == ticket_import.ERROR:
                click.echo(f"{outcome.row} {outcome.reference}: {outcome.error}", err=True)
            for note in outcome.notes:
                click.echo(f"{outcome.row} {outcome.reference}: {note}")
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        summary = the_plan.summary
        verb = "would be created" if dry_run else "created"
        click.echo(f"{summary['create']} ticket(s) {verb}, {summary['unchanged']} already imported, {summary['error']} in error.")

    @group.command("rotate-keys")
    def rotate_keys():
        """Re-encrypt every stored secret (TOTP secrets, mailbox passwords) with the first key of
        NOVADESK_ENCRYPTION_KEYS; older keys may be removed afterwards."""
        try:
            counts = encryption_keys.rotate_all()
        except SecretUnreadable as error:
            db.session.rollback()
            raise click.ClickException(str(error))
        db.session.commit()
        click.echo("Re-encrypted with the first key: " + ", ".join(f"{name} {count}" for name, count in counts.items()) + ".")

    app.cli.add_command(group)
    app.cli.add_command(_mail_commands())


def _mail_commands():
    mail_group = click.Group("mail", help="Incoming mail.")

    @mail_group.command("ingest")
    def ingest():
        """Read one message on standard input (for a mail server's pipe delivery).

        Exits 0 once the message is safely recorded, whatever became of it, and non-zero
        only when it could not be stored: the mail server then keeps it and tries again."""
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            click.echo("Rien à lire : message vide.", err=True)
            sys.exit(75)  # EX_TEMPFAIL: the mail server keeps the message
        try:
            row, created = mail_in.record(raw, "pipe")
        except Exception as error:
            click.echo(f"Message non enregistré : {error}", err=True)
            sys.exit(75)
        if not created:
            click.echo(f"Déjà reçu (message n° {row.id}) : {row.outcome or 'en attente de traitement'}")
            return
        try:
            line = mail_in.process(row.id) or f"Message n° {row.id} enregistré, traité par ailleurs."
        except Exception as error:  # recorded: the worker will process it again
            db.session.rollback()
            line = f"Message n° {row.id} enregistré ; traitement reporté : {error}"
        click.echo(line)

    @mail_group.command("fetch")
    def fetch():
        """Read the configured IMAP mailboxes once and process what arrived."""
        new = mail_in.fetch_all(current_app.config["MAIL_MAX_MESSAGE_MB"] * 2 * 1024 * 1024)
        done = mail_in.process_pending(limit=10_000)
        click.echo(f"{new} nouveau(x) message(s), {done} traité(s).")

    return mail_group
