"""Integrations: the configured directory sources and the log of every sync and import (U6)."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class SyncSourceKind:
    FILE = "file"  # a CSV or XLSX file dropped in a folder (FileMaker, Quadratus exports)
    HTTP = "http"  # an HTTP endpoint answering the JSON of the sync API
    LABELS = {FILE: "Fichier CSV/XLSX déposé", HTTP: "Adresse HTTP (JSON)"}
    CHOICES = list(LABELS.items())


class SyncSource(Model):
    """Where the worker reads the client directory from, and how often."""

    __tablename__ = "sync_source"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    kind = Column(String(10), nullable=False, default=SyncSourceKind.FILE)
    # A file path (CSV/XLSX) or an http(s) URL answering {"organisations": […], "contacts": […]}.
    location = Column(String(500), nullable=False)
    interval_minutes = Column(Integer, nullable=False, default=60)
    # The source lists the whole directory: contacts it no longer lists are deactivated.
    full = Column(Boolean, nullable=False, default=True)
    active = Column(Boolean, nullable=False, default=True)
    last_run_on = Column(UTCDateTime, nullable=True)
    # A file already read is not read again until it changes (modification time and size).
    last_file_signature = Column(String(100), nullable=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def kind_label(self):
        return SyncSourceKind.LABELS.get(self.kind, self.kind)

    def __repr__(self):
        return self.name


class SyncRun(Model):
    """One sync or import: when, from where, and what it did."""

    __tablename__ = "sync_run"

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)  # directory, tickets
    origin = Column(String(20), nullable=False)  # api, upload, scheduled, cli
    source_id = Column(Integer, ForeignKey("sync_source.id", ondelete="SET NULL"), nullable=True, index=True)
    source = relationship("SyncSource")
    source_label = Column(String(500), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True)
    actor = relationship("NovaUser")
    started_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    finished_on = Column(UTCDateTime, nullable=True)
    created = Column(Integer, nullable=False, default=0)
    updated = Column(Integer, nullable=False, default=0)
    unchanged = Column(Integer, nullable=False, default=0)
    deactivated = Column(Integer, nullable=False, default=0)
    errors = Column(Integer, nullable=False, default=0)
    # [{"row": 3, "message": "…"}, …], the first ones; or one line when the source failed.
    error_details = Column(JSON, nullable=True)
    failure = Column(Text, nullable=True)

    def __repr__(self):
        return f"{self.kind} {self.source_label}"
