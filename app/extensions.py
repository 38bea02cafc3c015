"""Unbound extensions; `create_app` binds them (nothing is bound at import time)."""
from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_compress import Compress
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# FAB's Model metadata, so that Alembic sees FAB's tables beside ours.
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
compress = Compress()
