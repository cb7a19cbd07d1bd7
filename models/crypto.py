"""Encryption of personal fields at rest (Fernet; several keys accepted during a rotation)."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class KeyProblem(RuntimeError):
    """The encryption key is missing, malformed or does not open the stored data."""


_keyring: MultiFernet | None = None


def generate_key() -> str:
    return Fernet.generate_key().decode()


def configure(keys: list[str]) -> None:
    """The first key encrypts; every key decrypts (so an old key keeps working during rotation)."""
    global _keyring
    if not keys:
        raise KeyProblem("TSUNAGI_ENCRYPTION_KEY is not set")
    try:
        _keyring = MultiFernet([Fernet(k.strip().encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise KeyProblem("TSUNAGI_ENCRYPTION_KEY is not a Fernet key") from exc


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


CANARY = "tsunagi-key-check"


def check_key(session) -> None:
    """Prove the configured key opens this database's data; the first run plants the proof.

    A wrong key stops the bot at start instead of writing data nobody can read later.
    """
    from models.org import OrgSetting

    row = session.get(OrgSetting, "key_check")
    if row is None:
        session.add(OrgSetting(key="key_check", value=encrypt(CANARY)))
        return
    if decrypt(row.value) != CANARY:
        raise KeyProblem("stored data cannot be decrypted with the configured key")
