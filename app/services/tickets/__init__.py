"""The ticket desk's one door (T2–T9, T12, T15), by action:

- opening.py      `open_ticket(actor, source, …)` and its fronts (web/API, mail, chat; import mode)
- messages.py     replies, internal notes, mail replies, chat transcripts
- fields.py       `update_fields` (status, priority, queue, assignees) and the per-field names
- status.py       the status workflow and what a move does
- escalation.py   to the next support level
- requesters.py   the organisation and requester of a ticket, identifying an unknown sender
- canned.py       canned responses
- text.py         the one text-cleaning rule
- files.py        a ticket's attachments
- common.py       rights, lookups, history, the `ticket.changed` event

Each function checks the actor's rights through scopes.py, records history and the activity
log, publishes what changed, and flushes; the caller commits. Every public name is reachable
as `tickets.<name>`."""
from app.services import ServiceError
from app.services.tickets.canned import NO_NAME_GREETING, active_canned_responses, client_greeting_name, fill_canned_response
from app.services.tickets.common import (
    CREATED,
    FIELDS,
    MERGED,
    MESSAGE,
    NOTE,
    TicketNotFound,
    access_ticket,
    as_id,
    can_assign,
    can_assign_at_creation,
    can_work,
    count_active_by_assignee,
    default_priority,
    default_status,
    get_active,
    publish_change,
    record_event,
    staff_members,
    touch,
)
from app.services.tickets.escalation import escalate, move_to_next_level
from app.services.tickets.fields import assign, change_priority, hand_over, raise_priority_one_step, take, update_fields
from app.services.tickets.files import store_acceptable_files, store_files
from app.services.tickets.messages import add_message, add_message_from_mail, add_message_then, add_to_ticket, add_transcript
from app.services.tickets.opening import (
    ImportedHistory,
    ImportedMessage,
    Source,
    create_ticket,
    create_ticket_from_chat,
    create_ticket_from_mail,
    open_imported_tickets,
    open_ticket,
    ticket_number,
)
from app.services.tickets.requesters import identify_requester, requester_in, unattached_tickets_from, visible_organisation
from app.services.tickets.status import allowed_statuses, change_status, check_status, leave_new_when_assigned, set_status
from app.services.tickets.text import (
    BODY_MAX,
    CONTROL_CHARACTERS,
    TITLE_MAX,
    clean_body,
    clean_text,
    clean_title,
    without_control_characters,
)

__all__ = [
    "BODY_MAX", "CONTROL_CHARACTERS", "CREATED", "FIELDS", "MERGED", "MESSAGE", "NOTE", "NO_NAME_GREETING", "TITLE_MAX",
    "ImportedHistory", "ImportedMessage", "ServiceError", "Source", "TicketNotFound",
    "access_ticket", "active_canned_responses", "add_message", "add_message_then", "add_message_from_mail", "add_to_ticket", "add_transcript",
    "allowed_statuses", "as_id", "assign", "take", "can_assign", "can_assign_at_creation", "can_work", "change_priority",
    "change_status", "check_status", "clean_body", "clean_text", "clean_title", "client_greeting_name",
    "count_active_by_assignee", "create_ticket", "create_ticket_from_chat", "create_ticket_from_mail", "default_priority",
    "default_status", "escalate", "fill_canned_response", "get_active", "hand_over", "identify_requester",
    "leave_new_when_assigned", "move_to_next_level", "open_imported_tickets", "open_ticket", "publish_change", "raise_priority_one_step",
    "record_event", "requester_in", "set_status", "staff_members", "store_acceptable_files", "store_files",
    "ticket_number", "touch", "unattached_tickets_from", "update_fields", "visible_organisation",
    "without_control_characters",
]
