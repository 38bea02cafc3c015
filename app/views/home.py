"""The landing page: anonymous visitors go to the login page; others see their start page.
And the site's icon, which browsers ask for at /favicon.ico whatever the page says."""
from flask import Blueprint, current_app, g, redirect, send_from_directory, url_for
from flask_appbuilder import IndexView, expose

from app.security import roles, scopes

site_icon = Blueprint("site_icon", __name__)


@site_icon.get("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "img/favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


class HomeView(IndexView):
    index_template = "novadesk/home.html"

    @expose("/")
    def index(self):
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for("NovaAuthView.login"))
        role_labels = [roles.ROLE_LABELS.get(name, name) for name in sorted(user.role_names)]
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            user=user,
            role_labels=role_labels,
            is_staff=scopes.is_staff(user),
        )
