"""What authentication keeps: one-time codes, recovery codes, role policies, account requests."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class EmailCode(Model):
    """A 6-digit second-factor code sent by e-mail; only its hash is kept."""

    __tablename__ = "email_code"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash = Column(String(128), nullable=False)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_on = Column(UTCDateTime, nullable=False)
    used_on = Column(UTCDateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)


class RecoveryCode(Model):
    __tablename__ = "recovery_code"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash = Column(String(128), nullable=False)
    used_on = Column(UTCDateTime, nullable=True)


class RolePolicy(Model):
    """Per-role settings an admin edits; today, whether a second factor is required."""

    __tablename__ = "role_policy"

    id = Column(Integer, primary_key=True)
    role_id = Column(Integer, ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False, unique=True)
    role = relationship("Role")
    two_factor_required = Column(Boolean, nullable=False, default=False)

    def __repr__(self):
        return str(self.role)


class AccountRequestStatus:
    UNCONFIRMED = "unconfirmed"  # waiting for the e-mail link to be followed
    PENDING = "pending"  # confirmed, no organisation matched: an admin decides
    APPROVED = "approved"
    REJECTED = "rejected"
    LABELS = {
        UNCONFIRMED: "Adresse à confirmer",
        PENDING: "En attente d'approbation",
        APPROVED: "Approuvée",
        REJECTED: "Refusée",
    }


class AccountRequest(Model):
    __tablename__ = "account_request"

    id = Column(Integer, primary_key=True)
    first_name = Column(String(64), nullable=False)
    last_name = Column(String(64), nullable=False)
    email = Column(String(320), nullable=False, index=True)
    phone = Column(String(50))
    organisation_name = Column(String(200), nullable=False)
    message = Column(Text)
    password_hash = Column(String(256), nullable=False)
    token_hash = Column(String(128), nullable=False, unique=True)
    status = Column(String(20), nullable=False, default=AccountRequestStatus.UNCONFIRMED)
    organisation_id = Column(Integer, ForeignKey("organisation.id"), nullable=True)
    organisation = relationship("Organisation")
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    user = relationship("NovaUser", foreign_keys=[user_id])
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    confirmed_on = Column(UTCDateTime, nullable=True)
    decided_on = Column(UTCDateTime, nullable=True)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    decided_by = relationship("NovaUser", foreign_keys=[decided_by_id])

    @property
    def status_label(self):
        return AccountRequestStatus.LABELS.get(self.status, self.status)

    def __repr__(self):
        return f"{self.first_name} {self.last_name} <{self.email}>"


class UserSession(Model):
    """One signed-in browser or API client (U3, U7). The session cookie and the API's tokens
    carry its random key; every request looks it up, so ending it here ends it everywhere."""

    __tablename__ = "user_session"

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    channel = Column(String(10), nullable=False, default="web")  # web | api
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_on = Column(UTCDateTime, nullable=False, default=utcnow)
    ip = Column(String(64))
    user_agent = Column(String(300))
    ended_on = Column(UTCDateTime, nullable=True)
    end_reason = Column(String(30), nullable=True)


class LoginThrottle(Model):
    """Failed sign-ins counted per account name (known or not: the answer is the same) and
    per client address. Only digests of the names and addresses are kept."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key_hash", name="uq_login_throttle_scope_key"),)

    id = Column(Integer, primary_key=True)
    scope = Column(String(10), nullable=False)  # account | address
    key_hash = Column(String(64), nullable=False)
    failures = Column(Integer, nullable=False, default=0)
    window_start = Column(UTCDateTime, nullable=False, default=utcnow)
    locked_until = Column(UTCDateTime, nullable=True)
