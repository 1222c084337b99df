"""Password hashing with Argon2id (RFC 9106), the winner of the Password Hashing Competition.

Hashes carry their own parameters and salt, so parameters can be raised later: ``needs_rehash`` tells when a
stored hash was made with weaker ones and should be replaced at the next successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2-cffi's defaults follow RFC 9106's second recommended option

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (refused when shorter than ``MIN_LENGTH``)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; a malformed hash never matches."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than the current ones."""
    return _HASHER.check_needs_rehash(stored_hash)


DUMMY_HASH = _HASHER.hash("not a password of anyone")
"""Verified against when a username is unknown, so a login takes as long whether or not the account exists."""
