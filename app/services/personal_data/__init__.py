"""Personal data (A4): export everything NovaDesk holds about a person, erase a person, and
anonymise closed tickets once the retention period has passed.

It is a registry of *holders*: each module that keeps personal data registers one, with
  export(person) → something JSON can write (or None when it holds nothing),
  erase(person, pseudonym) → how many rows it anonymised,
  expire(cutoff) → optional, anonymises what the retention period says is too old.
The ticket desk, mail and audit log register theirs below; another module (the chat) calls
`register(Holder(...))` when it is imported. After every holder has run, a sweep reads every
text column of every table and scrubs what is still there, so a table nobody registered
never keeps a trace of the person.

Erasing keeps statistics identical: no row is deleted (except the files the person sent, when
asked, and their second-factor codes), no date, status, score or count changes; names, e-mail
addresses and phone numbers are replaced by a pseudonym in fields and in free text.
"""
from app.services.personal_data.common import (
    ANONYMOUS_NAME,
    HOLDERS,
    PHONE_REPLACEMENT,
    PSEUDONYM_DOMAIN,
    Holder,
    Person,
    _iso,
    _mentions,
    _phone_pattern,
    find_person,
    pseudonym_for,
    register,
    scrubber,
)
from app.services.personal_data.doors import _sweep, erase, export, text_columns
from app.services.personal_data.holders import (
    _erase_account,
    _erase_account_requests,
    _erase_files,
    _erase_kb,
    _erase_log,
    _erase_mail,
    _erase_tickets,
    _export_account,
    _export_account_requests,
    _export_files,
    _export_log,
    _export_mail,
    _export_tickets,
    _their_log,
    _their_messages,
    _their_tickets,
)
from app.services.personal_data.retention import _last_retention, anonymise_ticket, apply_retention, retention_cutoff

__all__ = [
    "ANONYMOUS_NAME",
    "HOLDERS",
    "Holder",
    "PHONE_REPLACEMENT",
    "PSEUDONYM_DOMAIN",
    "Person",
    "_erase_account",
    "_erase_account_requests",
    "_erase_files",
    "_erase_kb",
    "_erase_log",
    "_erase_mail",
    "_erase_tickets",
    "_export_account",
    "_export_account_requests",
    "_export_files",
    "_export_log",
    "_export_mail",
    "_export_tickets",
    "_iso",
    "_last_retention",
    "_mentions",
    "_phone_pattern",
    "_sweep",
    "_their_log",
    "_their_messages",
    "_their_tickets",
    "anonymise_ticket",
    "apply_retention",
    "erase",
    "export",
    "find_person",
    "pseudonym_for",
    "register",
    "retention_cutoff",
    "scrubber",
    "text_columns",
]
