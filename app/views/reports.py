"""Reports (P1): a chosen date range compared with the period just before it — requests,
first-response and resolution times, SLA misses and satisfaction, per client, requester,
product, type, priority, channel, queue, support level and agent, and the backlog per day.
Exports: CSV (streamed row by row) and XLSX (openpyxl in write-only mode); the page prints.
Everything is read through app/services/figures.py, app/security/report_queries.py and the scopes."""
import csv
import io
import os
import tempfile
from datetime import date

from flask import Response, abort, current_app, flash, g, request, send_file, stream_with_context
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.extensions import db
from app.security import report_queries
from app.security.bounds import FIRST_DAY, LAST_DAY, to_day
from app.services import clock, figures
from app.views.dashboard import duration_label, percent_label
from app.views.formatting import local_datetime
from app.views.labels import CHANNEL_LABELS

MAX_DAYS = 3 * 366
DIMENSION_TITLES = {
    "organisation": _l("Par client"),
    "requester": _l("Par demandeur"),
    "product": _l("Par produit"),
    "type": _l("Par type de demande"),
    "priority": _l("Par priorité"),
    "channel": _l("Par canal"),
    "queue": _l("Par file"),
    "level": _l("Par niveau de support"),
    "agent": _l("Par agent"),
}
EMPTY_LABELS = {
    "organisation": _l("—"),
    "requester": _l("Sans demandeur"),
    "product": _l("Sans produit"),
    "type": _l("Sans type"),
    "priority": _l("—"),
    "channel": _l("—"),
    "queue": _l("Sans file"),
    "level": _l("Sans file"),
    "agent": _l("Non attribué"),
}


def _label(dimension, row):
    if row.key is None or row.label == "":
        return str(EMPTY_LABELS[dimension])
    if dimension == "channel":
        return str(CHANNEL_LABELS.get(row.key, row.key))
    if dimension == "level":
        return _("Niveau %(n)s", n=row.key)
    return row.label


def _parse_period(args):
    """The requested range (default: the last 30 days), or a refusal said in words."""
    zone = str(get_timezone())
    default = figures.last_days(30, zone)
    try:
        first = date.fromisoformat(args.get("start", "")) if args.get("start") else default.first_day
        last = date.fromisoformat(args.get("end", "")) if args.get("end") else default.last_day
    except ValueError:
        return default, _("Dates invalides : utilisez le format AAAA-MM-JJ.")
    if to_day(first.isoformat()) is None or to_day(last.isoformat()) is None:
        return default, _("Choisissez des dates entre %(first)s et %(last)s.", first=FIRST_DAY.year, last=LAST_DAY.year)
    if last < first:
        return default, _("La date de fin précède la date de début.")
    if (last - first).days + 1 > MAX_DAYS:
        return default, _("Une période de trois ans au plus, s'il vous plaît.")
    return figures.Period(first, last, zone), None


def _delta(current, previous):
    if current is None or previous is None:
        return None
    return round(current - previous, 1)


def build_report(user, period):
    figures_of = figures.report(user, period)
    current, previous = figures_of["summary"], figures_of["previous"]
    previous_period = period.previous()
    tables = []
    for dimension, (rows, before) in figures_of["breakdowns"].items():
        tables.append({
            "key": dimension,
            "title": str(DIMENSION_TITLES[dimension]),
            "rows": [
                {
                    "label": _label(dimension, row), "figures": row, "previous": before.get(row.key, 0),
                    "first_response": duration_label(row.first_response_minutes), "resolution": duration_label(row.resolution_minutes),
                    "sla": percent_label(row.sla_rate), "satisfaction": percent_label(row.satisfaction_rate),
                }
                for row in rows
            ],
        })
    return {
        "period": period, "previous_period": previous_period, "current": current, "previous": previous,
        "kpis": [
            (_("Demandes"), str(current.tickets), str(previous.tickets), _delta(current.tickets, previous.tickets), True),
            (_("Première réponse, en moyenne"), duration_label(current.first_response_minutes), duration_label(previous.first_response_minutes), _delta(current.first_response_minutes, previous.first_response_minutes), False),
            (_("Résolution, en moyenne"), duration_label(current.resolution_minutes), duration_label(previous.resolution_minutes), _delta(current.resolution_minutes, previous.resolution_minutes), False),
            (_("Délais manqués (SLA)"), str(current.breached), str(previous.breached), _delta(current.breached, previous.breached), False),
            (_("Dans les délais"), percent_label(current.sla_rate), percent_label(previous.sla_rate), _delta(current.sla_rate, previous.sla_rate), True),
            (_("Satisfaction (4 ou 5 sur 5)"), percent_label(current.satisfaction_rate), percent_label(previous.satisfaction_rate), _delta(current.satisfaction_rate, previous.satisfaction_rate), True),
            (_("Évaluations reçues"), str(current.ratings), str(previous.ratings), _delta(current.ratings, previous.ratings), True),
        ],
        "tables": tables,
        "history": figures.daily_flow(user, period),
    }


# --- exports ----------------------------------------------------------------------------------

def ticket_columns():
    return [
        _("Numéro"), _("Titre"), _("Client"), _("Demandeur"), _("Type"), _("Produit"), _("Priorité"), _("Statut"), _("Canal"),
        _("File"), _("Niveau"), _("Créé le"), _("Première réponse le"), _("Première réponse (minutes ouvrées)"),
        _("Résolu le"), _("Résolution (minutes ouvrées)"), _("Échéance de résolution"), _("Note de satisfaction"),
    ]


def ticket_rows(user, period, batch=2000):
    """The period's tickets as export rows, in words, read in batches (report_queries)."""
    channels = {key: str(label) for key, label in CHANNEL_LABELS.items()}

    def blank_if_none(value):
        return "" if value is None else value

    for r in report_queries.period_tickets(db.session, user, period.start, period.end, batch=batch):
        yield [
            r.number, r.title, r.organisation, f"{r.requester_first_name or ''} {r.requester_last_name or ''}".strip(), r.type or "",
            r.product or "", r.priority, r.status, channels.get(r.channel, r.channel), r.queue or "", r.support_level or "",
            local_datetime(r.created_on), local_datetime(r.first_responded_on), blank_if_none(r.first_response_minutes),
            local_datetime(r.resolved_on), blank_if_none(r.resolution_minutes), local_datetime(r.resolution_due), blank_if_none(r.score),
        ]


def _safe_cell(value):
    """A cell a spreadsheet will not run as a formula (CSV injection), without the control
    characters XLSX refuses (a title typed with one must not break the export)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return value


def table_rows(table):
    header = [_("Groupe"), _("Demandes"), _("Période précédente"), _("Répondues"), _("Première réponse moyenne (minutes ouvrées)"),
              _("Résolues"), _("Résolution moyenne (minutes ouvrées)"), _("Délais manqués"), _("Dans les délais (%)"),
              _("Évaluations"), _("Note moyenne"), _("Satisfaits (%)")]
    rows = []
    for row in table["rows"]:
        f = row["figures"].as_dict()
        rows.append([row["label"], f["tickets"], row["previous"], f["answered"], f["first_response_minutes"], f["resolved"],
                     f["resolution_minutes"], f["breached"], f["sla_rate"], f["ratings"], f["mean_score"], f["satisfaction_rate"]])
    return header, rows


def _csv_line(values):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerow(["" if v is None else _safe_cell(v) for v in values])
    return buffer.getvalue()


class ReportsView(BaseView):
    route_base = "/reports"
    class_permission_name = "Reports"
    default_view = "index"

    def _period(self, export=False):
        period, error = _parse_period(request.args)
        if error and export:  # a file of another period than asked would mislead: refuse, say why
            abort(400, error)
        if error:
            flash(error, "warning")
        return period

    @expose("/")
    @has_access
    @permission_name("show")
    def index(self):
        period = self._period()
        report = build_report(g.user, period)
        return self.render_template(
            "reports/index.html", title=_("Rapports"), report=report, generated_at=local_datetime(clock.now()),
            args={"start": period.first_day.isoformat(), "end": period.last_day.isoformat()},
        )

    @expose("/export.csv")
    @has_access
    @permission_name("export")
    def export_csv(self):
        period = self._period(export=True)
        user = g.user
        table = request.args.get("table", "tickets")
        if table != "tickets" and table not in figures.dimensions_for(user):
            abort(404)
        filename = f"novadesk-{table}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"

        def generate():
            yield "\ufeff"  # spreadsheets then read the file as UTF-8
            if table == "tickets":
                yield _csv_line(ticket_columns())
                for row in ticket_rows(user, period):
                    yield _csv_line(row)
            else:
                report_table = next(t for t in build_report(user, period)["tables"] if t["key"] == table)
                header, rows = table_rows(report_table)
                yield _csv_line(header)
                for row in rows:
                    yield _csv_line(row)

        response = Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export_xlsx(self):
        from openpyxl import Workbook

        period = self._period(export=True)
        user = g.user
        report = build_report(user, period)
        workbook = Workbook(write_only=True)
        summary = workbook.create_sheet(_("Résumé"))
        summary.append([_("Période"), f"{period.first_day:%d/%m/%Y} – {period.last_day:%d/%m/%Y}", _("Période précédente"),
                        f"{report['previous_period'].first_day:%d/%m/%Y} – {report['previous_period'].last_day:%d/%m/%Y}"])
        summary.append([])
        summary.append([_("Indicateur"), _("Période"), _("Période précédente")])
        for label, now_value, before_value, _delta_value, _up in report["kpis"]:
            summary.append([label, now_value, before_value])
        for table in report["tables"]:
            sheet = workbook.create_sheet(table["title"][:31])
            header, rows = table_rows(table)
            sheet.append(header)
            for row in rows:
                sheet.append([_safe_cell(v) for v in row])
        backlog = workbook.create_sheet(_("Évolution"))
        backlog.append([_("Jour"), _("Créés"), _("Résolus"), _("En cours en fin de journée")])
        for day in report["history"]:
            backlog.append([day["day"], day["created"], day["resolved"], day["backlog"]])
        sheet = workbook.create_sheet(_("Tickets"))
        sheet.append(ticket_columns())
        for row in ticket_rows(user, period):
            sheet.append([_safe_cell(v) for v in row])
        handle, path = tempfile.mkstemp(suffix=".xlsx", dir=current_app.config.get("EXPORT_TMP_DIR"))
        os.close(handle)
        try:
            workbook.save(path)
            stream = open(path, "rb")
        finally:
            os.unlink(path)  # the open handle keeps the data readable until it is sent
        filename = f"novadesk-rapport-{period.first_day.isoformat()}-{period.last_day.isoformat()}.xlsx"
        response = send_file(stream, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", as_attachment=True, download_name=filename, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
