"""Secrets kept encrypted at rest (U7): TOTP secrets and mailbox passwords.

Keys come from NOVADESK_ENCRYPTION_KEYS (Fernet keys, comma- or space-separated; the first one
encrypts, every one decrypts), or, on the embedded default, from a key generated once into
`instance/encryption_keys`. `flask novadesk rotate-keys` re-encrypts every stored secret with
the first key, after which an old key can be removed.
"""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

# Every encrypted column, for the rotation (the migration that encrypted them keeps its own copy).
ENCRYPTED_COLUMNS = [("ab_user", "totp_secret"), ("mailbox", "password")]


class SecretUnreadable(RuntimeError):
    """A stored secret that none of the configured keys opens: a key is missing or wrong."""


def cipher(keys=None):
    keys = keys if keys is not None else current_app.config["ENCRYPTION_KEYS"]
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError) as error:
        raise SecretUnreadable(
            "NOVADESK_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64-encoded bytes each): "
            f"{error}"
        ) from None


def encrypt(text, keys=None):
    return cipher(keys).encrypt(text.encode()).decode()


def decrypt(token, keys=None):
    try:
        return cipher(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the keys in NOVADESK_ENCRYPTION_KEYS: "
            "add the key it was encrypted with (after the current one), then run `flask novadesk rotate-keys`."
        ) from None


def rotate(token, keys=None):
    try:
        return cipher(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("A stored secret cannot be decrypted with the keys in NOVADESK_ENCRYPTION_KEYS.") from None


class EncryptedText(TypeDecorator):
    """Text stored as a Fernet token, read back in clear."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)
