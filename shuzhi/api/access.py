"""Access control of the API: every endpoint declares the roles it admits and the purpose it serves.

An endpoint takes ``caller: Annotated[Caller, requires(roles=..., purpose=...)]``. The dependency checks the
bearer token (401 when missing, forged or expired, or when the account is gone, inactive or has another role),
then the role (403, and the refusal is audited), and hands the endpoint a :class:`Caller` that knows who acts,
for which purpose, at which time — everything an audit record needs. ``roles=ANYONE`` admits callers without a
login (public information, the login itself). ``operations(app)`` lists every operation with its declaration;
``seal`` (called by ``create_app``) refuses an app with an undeclared operation, keeps the registry on
``app.state.access`` and writes each declaration into the OpenAPI document (``x-roles``, ``x-purpose``); it
also lists the anonymous GET endpoints, whose request sessions are read-only (``shuzhi.api.deps``).

``requires(..., cached=True)`` is the same check for hot ``async`` endpoints (the checkpoint scan) without a
store session of the request: the token is checked on every request (signature and expiry), the account
it names comes from an :class:`AccountCache` — a row read at most ``ACCOUNT_TTL`` seconds ago and not changed
by this process since. A deactivation or role change made through this process takes effect at once; one
made through another worker process (or straight in the database) within ``ACCOUNT_TTL`` seconds.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shuzhi import audit
from shuzhi.accounts import Claims, Purpose, Role, TokenError, account_for, check_declaration, speaks_for
from shuzhi.api.deps import DbSession, Services, services
from shuzhi.store import Store
from shuzhi.store.models import Account

ANYONE: frozenset[Role] | None = None
"""``requires(roles=ANYONE, ...)``: no login needed."""

TOKEN_URL = "/auth/token"
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


@dataclass(frozen=True)
class Caller:
    """Who is calling (None for an anonymous caller), for which purpose, at which time."""

    account: Account | None
    purpose: Purpose
    now: dt.datetime

    @property
    def role(self) -> Role | None:
        return Role(self.account.role) if self.account else None

    @property
    def username(self) -> str:
        return self.account.username if self.account else "anonymous"

    @property
    def logged_in(self) -> Account:
        """The caller's account; only endpoints that require a login use it."""
        if self.account is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "login required")
        return self.account

    @property
    def person_key(self) -> int:
        """The caller's own person_key (resident accounts only)."""
        if self.account is None or self.account.person_key is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this account is not bound to a person")
        return self.account.person_key

    def entry(self, action: str, person_key: int | None = None, **detail: Any) -> audit.Entry:
        role = self.role.value if self.role else None
        return audit.Entry(self.username, role, action, self.purpose.value, person_key, detail)

    def record(self, session: Session, action: str, person_key: int | None = None, **detail: Any) -> None:
        """Append one audit record of this caller's action."""
        audit.append(session, self.entry(action, person_key, **detail), self.now)

    def record_reads(self, session: Session, what: str, person_keys: Iterable[int]) -> None:
        """Audit a read of persons' data: one record per person, as each may ask who read theirs."""
        entries = [self.entry(f"read:{what}", key) for key in sorted(set(person_keys))]
        audit.append_all(session, entries, self.now)


class Requirement:
    """The declaration of one endpoint: the roles it admits (None: anyone) and the purpose it serves."""

    def __init__(self, roles: Iterable[Role] | None, purpose: Purpose) -> None:
        self.roles = None if roles is None else frozenset(roles)
        self.purpose = purpose
        if self.roles is not None:
            check_declaration(self.roles, purpose)

    def describe(self) -> str:
        who = "anyone" if self.roles is None else ", ".join(sorted(self.roles))
        return f"Roles: {who}. Purpose: {self.purpose}."

    def admits(self, role: Role | None) -> bool:
        return self.roles is None or role in self.roles


class _Open(Requirement):
    async def __call__(self, request: Request) -> Caller:
        return Caller(None, self.purpose, services(request).clock())


class _Login(Requirement):
    def __call__(
        self, request: Request, session: DbSession, token: Annotated[str | None, Depends(_bearer)]
    ) -> Caller:
        svc = services(request)
        account = _account(session, svc.signer.check, token)
        caller = Caller(account, self.purpose, svc.clock())
        if not self.admits(caller.role):
            caller.record(session, "access_denied", path=request.url.path, method=request.method)
            session.commit()  # the refusal is kept although the request fails
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {caller.role} may not call this endpoint")
        return caller


class _CachedLogin(Requirement):
    """``_Login`` for async endpoints: the account from the app's :class:`AccountCache`, no session."""

    async def __call__(self, request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Caller:
        svc = services(request)
        claims = _claims(svc.signer.check, token)
        cache = account_cache(request.app)
        account = cache.get(claims)
        if account is None:
            async with svc.gate.turn(write=False):
                account = await run_in_threadpool(cache.load, claims)
        if account is None:
            raise _unauthorised()
        caller = Caller(account, self.purpose, svc.clock())
        if not self.admits(caller.role):
            async with svc.gate.turn(write=True):
                await run_in_threadpool(_record_refusal, svc, caller, request.url.path, request.method)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {caller.role} may not call this endpoint")
        return caller


def _record_refusal(svc: Services, caller: Caller, path: str, method: str) -> None:
    with svc.store.session() as session:
        caller.record(session, "access_denied", path=path, method=method)


ACCOUNT_TTL = 5.0
"""Seconds an account row read for a token is trusted by :class:`AccountCache` (see the module docstring)."""


class AccountCache:
    """Accounts by id for token checks: each entry at most ``ttl`` seconds old and dropped as soon as this
    process commits a change to the accounts table (``Store.changes``)."""

    MAX_ENTRIES = 10_000

    def __init__(self, store: Store, ttl: float = ACCOUNT_TTL, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[int, tuple[float, int, Account | None]] = {}

    def get(self, claims: Claims) -> Account | None:
        """The active account the claims speak for, if cached and fresh (None: unknown, call ``load``)."""
        entry = self._entries.get(claims.account_id)
        if entry is None:
            return None
        read_at, version, account = entry
        if self.clock() - read_at > self.ttl or version != self._version():
            self._entries.pop(claims.account_id, None)
            return None
        return account if speaks_for(account, claims) else None

    def load(self, claims: Claims) -> Account | None:
        """Read the account from the store (any thread) and cache it; None if the claims do not hold."""
        version, read_at = self._version(), self.clock()
        with self.store.session(write=False) as session:
            account = session.get(Account, claims.account_id)
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[claims.account_id] = (read_at, version, account)
        return account if speaks_for(account, claims) else None

    def _version(self) -> int:
        return self.store.changes(Account.__tablename__)


def account_cache(app: FastAPI) -> AccountCache:
    """The app's account cache (made on first use)."""
    cache = getattr(app.state, "account_cache", None)
    if cache is None:
        cache = app.state.account_cache = AccountCache(app.state.services.store)
    return cache


def _unauthorised(detail: str = "login required") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _claims(check: Any, token: str | None) -> Claims:
    if not token:
        raise _unauthorised()
    try:
        return check(token)
    except TokenError as exc:
        raise _unauthorised(str(exc)) from exc


def _account(session: Session, check: Any, token: str | None) -> Account:
    account = account_for(session, _claims(check, token))
    if account is None:
        raise _unauthorised()
    return account


def requires(roles: Iterable[Role] | None, purpose: Purpose, cached: bool = False) -> Any:
    """Declare who may call an endpoint and why; use as ``Annotated[Caller, requires(...)]``.

    ``cached=True`` (async endpoints with a login): no store session for the check, the account comes
    from the app's :class:`AccountCache`."""
    if roles is None:
        return Depends(_Open(None, purpose))
    return Depends(_CachedLogin(roles, purpose) if cached else _Login(roles, purpose))


@dataclass(frozen=True)
class Operation:
    """One method on one path of an app, with its declaration (None: undeclared)."""

    method: str
    path: str
    requirement: Requirement | None


def operations(app: FastAPI) -> list[Operation]:
    """Every API operation of ``app`` (routers included), with its declaration."""
    found = []
    for route in _api_routes(app):
        requirement = _find(route.dependant)
        found.extend(Operation(method, route.path, requirement) for method in sorted(route.methods))
    return found


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The API routes of ``app`` as seen from outside: with the prefixes of the routers they came in by."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI that includes routers lazily
    if contexts is None:
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    yield from (c for c in contexts(app.routes) if isinstance(c.original_route, APIRoute))


def _find(dependant: Dependant) -> Requirement | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Requirement):
            return dep.call
        found = _find(dep)
        if found is not None:
            return found
    return None


def seal(app: FastAPI) -> None:
    """Refuse undeclared operations; keep the registry on ``app.state.access``; document it in OpenAPI."""
    found = operations(app)
    undeclared = [f"{o.method} {o.path}" for o in found if o.requirement is None]
    if undeclared:
        raise RuntimeError(f"endpoints without requires(roles=..., purpose=...): {', '.join(undeclared)}")
    app.state.access = {(o.method, o.path): o.requirement for o in found}
    app.state.read_only_endpoints = {
        route.endpoint for route in _api_routes(app) if _reads_only(route.methods, _find(route.dependant))
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for (method, path), requirement in app.state.access.items():
            _document(schema["paths"][path][method.lower()], requirement)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _reads_only(methods: Iterable[str], requirement: Requirement | None) -> bool:
    """Anonymous GETs write nothing (no audit record either): their store session is read-only."""
    return requirement is not None and requirement.roles is None and set(methods) <= {"GET", "HEAD"}


def _document(operation: dict[str, Any], requirement: Requirement) -> None:
    text = requirement.describe()
    description = operation.get("description", "")
    if not description.endswith(text):
        operation["description"] = f"{description}\n\n{text}".strip()
    operation["x-roles"] = ["anyone"] if requirement.roles is None else sorted(requirement.roles)
    operation["x-purpose"] = requirement.purpose.value
