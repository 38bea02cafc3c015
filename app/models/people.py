"""NovaDesk's user: FAB's user with an organisation, contact details and 2FA settings."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime
from app.security.encryption import EncryptedText


class NovaUser(User):
    __tablename__ = "ab_user"

    organisation_id = Column(Integer, ForeignKey("organisation.id"), nullable=True)
    organisation = relationship("Organisation", foreign_keys=[organisation_id], backref="members")
    phone = Column(String(50))
    # The contact's id in the vendor's ERP/CRM (directory sync, U6).
    external_id = Column(String(100), unique=True, nullable=True)
    locale = Column(String(5), nullable=False, default="fr")
    timezone = Column(String(64), nullable=False, default="Europe/Paris")
    support_level = Column(Integer, nullable=True)  # 1, 2 or 3 for agents
    # Second factor: a code by e-mail at each new session unless the user turns it off
    # (only where the role allows it), or TOTP once enrolled.
    two_factor_email = Column(Boolean, nullable=False, default=True)
    totp_secret = Column(EncryptedText, nullable=True)  # encrypted at rest (app/security/encryption.py)
    totp_enabled = Column(Boolean, nullable=False, default=False)
    totp_last_step = Column(Integer, nullable=True)  # refuses a replayed TOTP code
    locked_until = Column(UTCDateTime, nullable=True)
    # Agents mark themselves away; automatic assignment skips them (T12).
    # Optional notifications this person turned off (kinds from app/services/notifications.py).
    muted_notifications = Column(JSON, nullable=False, default=list, server_default="[]")
    available = Column(Boolean, nullable=False, default=True, server_default="1")
    # Live chat: how many conversations at once (set by admins), and the agent's own switch.
    chat_limit = Column(Integer, nullable=False, default=3, server_default="3")
    chat_available = Column(Boolean, nullable=False, default=True, server_default="1")

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_names(self):
        return {role.name for role in self.roles}

    def __repr__(self):
        return self.full_name or self.email
