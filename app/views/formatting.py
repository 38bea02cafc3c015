"""The screens' formatting helpers; they live in app/formatting.py, where services reach them too.
`relative_time` needs the services' clock, so it stays here, above the services."""
from datetime import timezone

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from app.formatting import (  # noqa: F401
    EMPTY,
    _user_zone,
    business_duration,
    datetime_formatters,
    file_size,
    local_date,
    local_datetime,
    role_labels,
    screen_value,
    yes_no,
    yes_no_formatters,
)
from app.services import clock


def relative_time(value, now=None):
    """« il y a 5 min » in a <time> element whose tooltip is the exact moment in the person's
    time zone; older than a week, the date itself. The browser keeps the words fresh."""
    if value is None:
        return EMPTY
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    now = now or clock.now()
    exact = local_datetime(value)
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 1:
        words = _("à l'instant")
    elif minutes < 60:
        words = _("il y a %(n)s min", n=minutes)
    elif minutes < 24 * 60:
        words = _("il y a %(n)s h", n=minutes // 60)
    elif minutes < 7 * 24 * 60:
        words = ngettext("il y a %(num)s jour", "il y a %(num)s jours", minutes // (24 * 60))
    else:
        words = exact[:10]
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value.astimezone(timezone.utc).isoformat(), exact, words)
