"""The services' clock is the application's (app/clock.py, below every layer); kept under this
name because every service reads `clock.now()`."""
from app.clock import _frozen, frozen, now, user_zone  # noqa: F401
