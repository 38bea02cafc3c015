"""Domain logic: the one door for every action. Services flush, never commit."""


class ServiceError(Exception):
    """A refusal a person can read; adapters show `message` and change nothing."""

    not_found = False  # True: answer "not found", whether missing or forbidden

    def __init__(self, message, errors=None):
        message = str(message)  # lazy strings are rendered now, in the person's language
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
