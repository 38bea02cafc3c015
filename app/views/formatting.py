"""The screens' formatting helpers; they live in app/formatting.py, where services reach them too."""
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
