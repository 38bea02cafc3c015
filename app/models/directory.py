"""Organisations (the vendor, client partners, resellers) and the vendor's products."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class OrganisationKind:
    VENDOR = "vendor"
    CLIENT = "client"
    RESELLER = "reseller"
    LABELS = {VENDOR: "Éditeur", CLIENT: "Client partenaire", RESELLER: "Revendeur"}
    CHOICES = list(LABELS.items())


class Organisation(Model):
    __tablename__ = "organisation"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, unique=True)
    kind = Column(String(20), nullable=False, default=OrganisationKind.CLIENT)
    external_id = Column(String(100), unique=True, nullable=True)
    # Lower-case domains separated by spaces; an account request from one of them joins this org.
    email_domains = Column(Text, nullable=False, default="")
    phone = Column(String(50))
    address = Column(Text)
    notes = Column(Text)
    active = Column(Boolean, nullable=False, default=True)
    # The one organisation that holds mail from unknown senders until someone attaches it.
    holds_unidentified = Column(Boolean, nullable=False, default=False, server_default="0")
    # The zone its people live in: new users of the organisation get it (empty: DEFAULT_TIMEZONE).
    timezone = Column(String(64), nullable=True)
    # Mail from its people or domains is filed as theirs only when our mail server vouched for
    # the sender (DMARC or DKIM pass); otherwise it goes to the unidentified senders (T10).
    require_authenticated_mail = Column(Boolean, nullable=False, default=False, server_default="0")
    reseller_id = Column(Integer, ForeignKey("organisation.id"), nullable=True)
    reseller = relationship("Organisation", remote_side=[id], backref="resold_clients")
    # use_alter: users point to organisations and organisations to users (their account manager).
    account_manager_id = Column(Integer, ForeignKey("ab_user.id", use_alter=True, name="fk_organisation_account_manager"), nullable=True)
    account_manager = relationship("NovaUser", foreign_keys=[account_manager_id], backref="managed_organisations")
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    changed_on = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def domain_list(self):
        return [d for d in (self.email_domains or "").split() if d]

    @property
    def kind_label(self):
        return OrganisationKind.LABELS.get(self.kind, self.kind)

    def __repr__(self):
        return self.name


class Product(Model):
    __tablename__ = "product"

    id = Column(Integer, primary_key=True)
    code = Column(String(50), nullable=False, unique=True)
    name = Column(String(200), nullable=False, unique=True)
    description = Column(Text)
    current_version = Column(String(50))
    active = Column(Boolean, nullable=False, default=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return self.name
