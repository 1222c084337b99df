"""Expiring signed bearer tokens: ``<claims>.<signature>``, both base64url, signed with HMAC-SHA256.

The instance that issues a token is the only one that checks it, so a symmetric key suffices (no key to
publish, unlike the credentials of ``shuzhi.credentials``, which other regions verify). The key is 32 random
bytes kept at ``<data>/secrets/api-token.key`` (mode 0600), created on first use; replacing the file revokes
every token at once. Claims: ``sub`` (account id), ``role``, ``iat`` and ``exp`` (Unix seconds). A token is
checked against the signer's clock (injectable for tests) and, by the API, against the account's current
state, so deactivating an account or changing its role ends its tokens.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shuzhi.accounts.roles import Role

Clock = Callable[[], dt.datetime]
KEY_FILENAME = "api-token.key"
KEY_BYTES = 32


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


class TokenError(ValueError):
    """A token is malformed, forged or expired."""


@dataclass(frozen=True)
class Claims:
    account_id: int
    role: Role
    issued_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenPolicy:
    """How long tokens live: staff a working shift, residents a month (they log in from their own phone)."""

    staff_ttl: dt.timedelta = dt.timedelta(hours=8)
    resident_ttl: dt.timedelta = dt.timedelta(days=30)

    def ttl(self, role: Role) -> dt.timedelta:
        return self.resident_ttl if role is Role.RESIDENT else self.staff_ttl


@dataclass(frozen=True)
class TokenSigner:
    """Issues and checks tokens with one key, one expiry policy and one clock."""

    key: bytes
    policy: TokenPolicy = field(default_factory=TokenPolicy)
    clock: Clock = utcnow

    def issue(self, account_id: int, role: Role) -> tuple[str, Claims]:
        now = self.clock().replace(microsecond=0)
        claims = Claims(account_id, role, now, now + self.policy.ttl(role))
        body = _b64(json.dumps(_to_json(claims), separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._sign(body))}", claims

    def check(self, token: str) -> Claims:
        """The claims of a genuine, unexpired token; :class:`TokenError` otherwise."""
        body, dot, signature = token.partition(".")
        if not dot or not hmac.compare_digest(_unb64(signature), self._sign(body)):
            raise TokenError("invalid token")
        claims = _from_json(json.loads(_unb64(body)))
        if self.clock() >= claims.expires_at:
            raise TokenError("token expired")
        return claims

    def _sign(self, body: str) -> bytes:
        return hmac.new(self.key, body.encode(), hashlib.sha256).digest()


def load_or_create_key(secrets_dir: Path) -> bytes:
    """The token key of an instance, created (0600) under ``secrets_dir`` on first use."""
    path = Path(secrets_dir) / KEY_FILENAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise TokenError(f"{path}: a token key needs at least {KEY_BYTES} bytes")
    return key


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _to_json(claims: Claims) -> dict[str, object]:
    return {
        "sub": claims.account_id,
        "role": claims.role.value,
        "iat": int(claims.issued_at.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }


def _from_json(data: dict[str, object]) -> Claims:
    try:
        return Claims(
            account_id=int(data["sub"]),  # type: ignore[call-overload]
            role=Role(data["role"]),
            issued_at=dt.datetime.fromtimestamp(int(data["iat"]), dt.UTC),  # type: ignore[call-overload]
            expires_at=dt.datetime.fromtimestamp(int(data["exp"]), dt.UTC),  # type: ignore[call-overload]
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenError("invalid token") from exc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise TokenError("invalid token") from exc
