"""The dashboards (P2, P3, T13): one page shaped by the person's audience — the support's
and commercials' view of the work and the team, or a partner's view of its own requests.
The page draws what /dashboard/data returns and asks again every minute without a reload.
Every figure comes from app/services/figures.py, which reads through the scopes."""
from flask import current_app, g, jsonify, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import get_timezone
from flask_babel import gettext as _

from app.extensions import db
from app.models import Priority, StatusCategory
from app.security import scopes
from app.services import clock, figures
from app.services.ticket_config import CATEGORY_LABELS
from app.views.formatting import local_datetime
from app.views.labels import event_sentence

STAFF_DAYS = 30
PARTNER_DAYS = 90


def duration_label(minutes):
    """A mean in business time: « 45 min », « 3 h 20 », « 2 j 4 h » (8-hour business days)."""
    if minutes is None:
        return "—"
    minutes = int(round(minutes))
    days, rest = divmod(minutes, 480)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s j %(h)s h", d=days, h=hours) if hours else _("%(d)s j", d=days)
    if hours:
        return _("%(h)s h %(m)02d", h=hours, m=mins) if mins else _("%(h)s h", h=hours)
    return _("%(m)s min", m=mins)


def percent_label(value):
    return "—" if value is None else _("%(n)s %%", n=f"{value:g}".replace(".", ","))


def deadline_label(deadline):
    return _("première réponse") if deadline == "first_response" else _("résolution")


def _list_url(**args):
    return url_for("TicketDeskView.index", **{k: v for k, v in args.items() if v not in (None, "")})


def _summary(summary):
    data = summary.as_dict()
    data.update(
        first_response_label=duration_label(summary.first_response_minutes),
        resolution_label=duration_label(summary.resolution_minutes),
        sla_label=percent_label(summary.sla_rate),
        satisfaction_label=percent_label(summary.satisfaction_rate),
        mean_score_label="—" if summary.mean_score is None else f"{summary.mean_score:.1f}".replace(".", ",") + " / 5",
    )
    return data


def _watched(rows, staff):
    return [
        {
            "number": w.number, "title": w.title, "url": url_for("TicketDeskView.show", ticket_id=w.id),
            "organisation": w.organisation, "priority": w.priority, "priority_key": w.priority_key,
            "due": local_datetime(w.due), "late": w.late, "deadline": deadline_label(w.deadline),
            "assignees": ", ".join(w.assignees) if staff else "",
        }
        for w in rows
    ]


def dashboard_data(user):
    """Everything the page shows, as plain values (numbers, labels, links)."""
    zone = str(get_timezone())
    team = scopes.sees_team_figures(user)
    days = STAFF_DAYS if team else PARTNER_DAYS
    period = figures.last_days(days, zone)
    counts = figures.status_counts(user)
    flow = figures.new_and_resolved(user, zone)
    data = {
        "generated_at": local_datetime(clock.now()),
        "audience": "team" if team else "partner",
        "days": days,
        "counts": [
            {"key": key, "label": str(CATEGORY_LABELS[key]), "value": counts[key], "url": _list_url(view=key)}
            for key in StatusCategory.ORDER
        ],
        "flow": [
            {"key": "created_today", "label": _("Nouveaux aujourd'hui"), "value": flow["created_today"], "url": _list_url(view="all", created_since=flow["today"])},
            {"key": "created_week", "label": _("Nouveaux cette semaine"), "value": flow["created_week"], "url": _list_url(view="all", created_since=flow["week_start"])},
            {"key": "resolved_today", "label": _("Résolus ou fermés aujourd'hui"), "value": flow["resolved_today"], "url": _list_url(view="all", resolved_since=flow["today"])},
            {"key": "resolved_week", "label": _("Résolus ou fermés cette semaine"), "value": flow["resolved_week"], "url": _list_url(view="all", resolved_since=flow["week_start"])},
        ],
        "summary": _summary(figures.summary(user, period)),
        "history": figures.daily_flow(user, period, open_now=sum(counts[key] for key in StatusCategory.ACTIVE)),
        "late": _watched(figures.tickets_needing_help(user), team),
        "late_url": _list_url(view="active", overdue="1"),
        "events": [
            {
                "at": local_datetime(event.at), "number": number, "url": url_for("TicketDeskView.show", ticket_id=event.ticket_id),
                "sentence": event_sentence(event), "actor": event.actor.full_name if event.actor else _("NovaDesk"),
            }
            for event, number in figures.recent_events(user)
        ],
        "ratings": [
            {"number": number, "title": title, "url": url_for("TicketDeskView.show", ticket_id=rating.ticket_id), "score": rating.score, "comment": rating.comment or "", "at": local_datetime(rating.rated_on)}
            for rating, number, title in figures.recent_ratings(user)
        ],
    }
    if team:
        chats = figures.chat_summary(user, period)
        chats.update(
            mean_wait_label="—" if chats["mean_wait_seconds"] is None else _("%(m)s min %(s)02d s", m=chats["mean_wait_seconds"] // 60, s=chats["mean_wait_seconds"] % 60),
            satisfaction_label=percent_label(chats["satisfaction_rate"]),
            mean_score_label="—" if chats["mean_score"] is None else f"{chats['mean_score']:.1f}".replace(".", ",") + " / 5",
        )
        data["chat"] = chats
        top = db.session.query(Priority).order_by(Priority.position).first()
        data["urgent"] = _watched(figures.urgent_tickets(user), True)
        data["urgent_url"] = _list_url(view="active", priority=top.id if top else None)
        data["alerts"] = [
            {
                "id": alert.id, "number": number, "title": title, "url": url_for("TicketDeskView.show", ticket_id=alert.ticket_id),
                "late": alert.stage == "breach", "deadline": deadline_label(alert.deadline), "due": local_datetime(alert.due),
                "at": local_datetime(alert.created_on),
            }
            for alert, number, title in figures.recent_alerts(user)
        ]
        team_rows = figures.agents(user, period)
        data["agents"] = [
            {**row, "first_response_label": duration_label(row["first_response_minutes"]), "resolution_label": duration_label(row["resolution_minutes"]),
             "sla_label": percent_label(row["sla_rate"]), "url": _list_url(view="active", assignee=row["key"])}
            for row in team_rows
        ]
        mine = figures.my_work(user, period, team_rows)
        if mine is not None:
            data["mine"] = {**mine, "first_response_label": duration_label(mine["first_response_minutes"]), "resolution_label": duration_label(mine["resolution_minutes"]), "url": _list_url(view="active", assignee="me")}
    return data


class DashboardView(BaseView):
    route_base = "/dashboard"
    class_permission_name = "Dashboard"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("show")
    def index(self):
        user = g.user
        data = dashboard_data(user)
        return self.render_template(
            "dashboard/index.html",
            title=_("Tableau de bord"),
            data=data,
            refresh_seconds=current_app.config.get("DASHBOARD_REFRESH_SECONDS", 60),
            reports=self.appbuilder.sm.has_access("can_show", "Reports"),
        )

    @expose("/data")
    @has_access
    @permission_name("show")
    def data(self):
        response = jsonify(dashboard_data(g.user))
        response.headers["Cache-Control"] = "private, no-store"
        return response
