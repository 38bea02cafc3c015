"""Small helpers the ticket tests share: ids by name, tickets made through the service."""
import io

from app.extensions import db
from app.models import NovaUser, Organisation, Priority, Queue, TicketStatus


def user(email):
    return db.session.query(NovaUser).filter_by(email=email).one()


def org(name):
    return db.session.query(Organisation).filter_by(name=name).one()


def status(category):
    return db.session.query(TicketStatus).filter_by(category=category).order_by(TicketStatus.position).first()


def priority(key):
    return db.session.query(Priority).filter_by(key=key).one()


def queue(level):
    return db.session.query(Queue).filter_by(support_level=level).one()


def png_bytes(width=64, height=48, noise=False):
    from PIL import Image

    if noise:
        import os

        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def file_(name, data):
    return (io.BytesIO(data), name)
