"""Encryption of personal fields at rest (Fernet; several keys accepted during a rotation)."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class KeyProblem(RuntimeError):
    """The encryption key is missing, malformed or does not open the stored data."""


_keyring: MultiFernet | None = None
_primary: Fernet | None = None  # the key new values are encrypted with


def generate_key() -> str:
    return Fernet.generate_key().decode()


def configure(keys: list[str]) -> None:
    """The first key encrypts; every key decrypts (so an old key keeps working during rotation)."""
    global _keyring, _primary
    if not keys:
        raise KeyProblem("TSUNAGI_ENCRYPTION_KEY is not set")
    try:
        fernets = [Fernet(k.strip().encode()) for k in keys]
    except (ValueError, TypeError) as exc:
        raise KeyProblem("TSUNAGI_ENCRYPTION_KEY is not a Fernet key") from exc
    _keyring, _primary = MultiFernet(fernets), fernets[0]


def _ring() -> MultiFernet:
    if _keyring is None:
        raise KeyProblem("encryption is not configured")
    return _keyring


def encrypt(text: str) -> str:
    return _ring().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _ring().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never return garbage or an empty string: a wrong key must be loud.
        raise KeyProblem("stored data cannot be decrypted with the configured key") from exc


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedJSON(TypeDecorator):
    """A JSON value (lists, dicts) stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(decrypt(value))


# --------------------------------------------------------------------------- key rotation


def is_current(token: str) -> bool:
    """Whether a stored token is already encrypted with the current (first) key."""
    _ring()
    try:
        _primary.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def reencrypt(token: str) -> str:
    """The same value, encrypted with the current key (any configured key may open it)."""
    try:
        return _ring().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyProblem("stored data cannot be decrypted with the configured key") from exc
