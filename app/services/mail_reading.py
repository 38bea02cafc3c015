"""Reading mailboxes, as the services and the worker see it (T10, A2).

The services never import a channel: `create_app` installs the implementation (the IMAP
channel, `app/channels/mail_in.py`) with `install`, and everything else asks `reader()`.
A deployment reading mail another way (another protocol, a test double of a real server)
installs its own object with the same methods.
"""
from typing import Callable, Protocol

from flask import current_app

EXTENSION = "mail_reader"


class MailReader(Protocol):
    def test(self, mailbox, timeout: int = 10) -> tuple[bool, int]:
        """Connect and sign in; (the folder exists, how many messages it holds). Raises
        when the server cannot be reached or refuses the account."""

    def fetch_all(self, max_bytes: int) -> int:
        """Record what arrived in every active mailbox nobody else is reading; how many."""

    def process_pending(self, limit: int = 100) -> int:
        """Process what was recorded and not yet processed; how many."""

    def watch(self, app, on_new: Callable[[], None]) -> None:
        """Keep mailboxes whose server can tell of new mail (IMAP IDLE) watched, calling
        `on_new` once a new message is recorded; the others stay with `fetch_all`."""

    def stop_watching(self) -> None:
        """End every watch (the worker stops)."""


def install(app, implementation: MailReader):
    app.extensions[EXTENSION] = implementation


def reader() -> MailReader:
    try:
        return current_app.extensions[EXTENSION]
    except KeyError:
        raise RuntimeError("no mail reader installed (create_app installs the IMAP channel)") from None
