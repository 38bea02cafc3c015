"""The activity log (U4): who did what, when, from where."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class ActivityLog(Model):
    __tablename__ = "activity_log"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    actor = relationship("NovaUser", foreign_keys=[actor_id])
    action = Column(String(64), nullable=False, index=True)
    target_type = Column(String(64), nullable=True)
    target_id = Column(Integer, nullable=True)
    target_label = Column(String(300), nullable=True)
    # The user an entry is about (the target of a login, a change of account…), for per-user views.
    subject_user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    subject_user = relationship("NovaUser", foreign_keys=[subject_user_id])
    details = Column(JSON, nullable=True)
    ip_address = Column(String(64), nullable=True)

    def __repr__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
