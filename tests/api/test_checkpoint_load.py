"""Checkpoint scans under concurrency: the group-commit writer lands every scan exactly once with its
audit record and a valid chain, refuses a batch it could not commit as a whole, tells listeners after
each commit; the access cache's bounds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from shuzhi import audit
from shuzhi.accounts import Role
from shuzhi.api import ApiSettings, create_app, credentials_verifier
from shuzhi.api.access import AccountCache
from shuzhi.api.routers.checkpoint import WRITER_STATE
from shuzhi.credentials import keys, tokens, trustlist
from shuzhi.store import Account, AuditRecord, Passage, Store

from .conftest import RESIDENT_KEY, T0, Clock, copy_of

HANGZHOU = "330100"
SCANS = 200


@pytest.fixture
def app(template: Path, tmp_path: Path) -> FastAPI:
    key_store = keys.KeyStore(tmp_path / "keys")
    key_store.generate(HANGZHOU, now=T0 - dt.timedelta(days=1))
    trust = trustlist.merge([trustlist.regional(key_store, HANGZHOU, now=T0)], now=T0)
    settings = ApiSettings(data_dir=copy_of(template, tmp_path), clock=Clock())
    created = create_app(settings, verifier=credentials_verifier(trust, HANGZHOU))
    signer = key_store.signer(HANGZHOU, now=T0)
    created.state.test_payload = tokens.issue(
        tokens.health_code("green", "2022-9th", "none"), str(RESIDENT_KEY), signer, now=T0
    )
    return created


def _headers(app: FastAPI, username: str = "checkpoint") -> dict[str, str]:
    store: Store = app.state.services.store
    with store.session() as session:
        account = session.scalars(select(Account).where(Account.username == username)).one()
    token, _ = app.state.services.signer.issue(account.id, Role(account.role))
    return {"Authorization": f"Bearer {token}"}


async def _scan_many(app: FastAPI, count: int, headers: dict[str, str]) -> list[httpx.Response]:
    """``count`` scans at once over ASGI, with the app's lifespan (and so its writer) running."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        assert getattr(app.state, WRITER_STATE).running

        async def one(number: int) -> httpx.Response:
            body = {
                "checkpoint_code": f"V-{number % 7}",
                "payload": app.state.test_payload,
                "direction": "in",
            }
            return await c.post("/checkpoint/passages", json=body, headers=headers)

        return await asyncio.gather(*(one(n) for n in range(count)))


def _stored(app: FastAPI) -> tuple[list[Passage], list[AuditRecord], audit.ChainReport]:
    store: Store = app.state.services.store
    with store.session() as session:
        passages = list(session.scalars(select(Passage).order_by(Passage.id)))
        records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        return passages, records, audit.verify_chain(session)


def test_concurrent_scans_land_exactly_once_with_a_valid_chain(app: FastAPI) -> None:
    heard: list[Passage] = []
    app.state.services.passage_listeners.append(heard.extend)
    responses = asyncio.run(_scan_many(app, SCANS, _headers(app)))
    assert [r.status_code for r in responses] == [201] * SCANS
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == SCANS
    assert all(r.json()["valid"] and r.json()["reason"] == "valid: green" for r in responses)
    passages, records, report = _stored(app)
    assert sorted(ids) == [p.id for p in passages]
    assert report.ok, report.problem
    scans = [r for r in records if r.action == "create:passages"]
    assert sorted(r.detail["id"] for r in scans) == sorted(ids)  # one audit record per passage
    assert {r.person_key for r in scans} == {RESIDENT_KEY}
    assert sorted(p.id for p in heard) == sorted(ids)  # every committed passage told once
    assert all(p.checkpoint_code.startswith("V-") for p in heard)  # loaded, not expired


def test_scans_are_grouped_into_fewer_transactions(app: FastAPI) -> None:
    commits: list[int] = []
    app.state.services.passage_listeners.append(lambda batch: commits.append(len(batch)))
    asyncio.run(_scan_many(app, SCANS, _headers(app)))
    assert sum(commits) == SCANS
    assert len(commits) < SCANS / 4, commits  # the writer groups what queued up while it committed


def test_a_failing_commit_refuses_its_batch_and_lands_nothing(app: FastAPI) -> None:
    heard: list[Passage] = []
    app.state.services.passage_listeners.append(heard.extend)
    headers = _headers(app)
    before = _stored(app)

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as c,
        ):
            writer = app.state.passage_writer
            write = writer.write

            def failing(session, scans):  # everything written, then the transaction fails
                write(session, scans)
                raise OSError("disk full")

            body = {"checkpoint_code": "V-1", "payload": app.state.test_payload}
            writer.write = failing
            refused = await asyncio.gather(
                *(c.post("/checkpoint/passages", json=body, headers=headers) for _ in range(20))
            )
            writer.write = write
            accepted = [await c.post("/checkpoint/passages", json=body, headers=headers)]
            return refused, accepted

    refused, accepted = asyncio.run(run())
    assert {r.status_code for r in refused} == {503}
    assert "not recorded" in refused[0].json()["detail"]
    assert accepted[0].status_code == 201
    passages, records, report = _stored(app)
    assert [p.id for p in passages] == [accepted[0].json()["id"]]  # nothing of the failed batches
    assert len(records) == len(before[1]) + 1 and report.ok
    assert [p.id for p in heard] == [accepted[0].json()["id"]]


def test_a_failing_listener_never_fails_a_scan(app: FastAPI) -> None:
    def broken(_passages: Sequence[Passage]) -> None:
        raise RuntimeError("listener bug")

    app.state.services.passage_listeners.append(broken)
    responses = asyncio.run(_scan_many(app, 5, _headers(app)))
    assert [r.status_code for r in responses] == [201] * 5
    assert len(_stored(app)[0]) == 5


def test_wrong_role_and_bad_tokens_are_refused_without_a_passage(app: FastAPI) -> None:
    operator = asyncio.run(_scan_many(app, 1, _headers(app, "operator")))
    forged = asyncio.run(_scan_many(app, 1, {"Authorization": "Bearer forged.token"}))
    missing = asyncio.run(_scan_many(app, 1, {}))
    assert [r.status_code for r in (*operator, *forged, *missing)] == [403, 401, 401]
    passages, records, report = _stored(app)
    assert passages == [] and report.ok
    assert records[-1].action == "access_denied" and records[-1].actor == "operator"


def test_a_deactivation_in_this_process_takes_effect_at_once(app: FastAPI) -> None:
    headers = _headers(app)
    assert asyncio.run(_scan_many(app, 1, headers))[0].status_code == 201  # the account is cached now
    with app.state.services.store.session() as session:
        session.execute(update(Account).where(Account.username == "checkpoint").values(active=False))
    assert asyncio.run(_scan_many(app, 1, headers))[0].status_code == 401


def test_the_account_cache_trusts_another_process_change_only_after_its_ttl(app: FastAPI) -> None:
    store: Store = app.state.services.store
    now = [0.0]
    cache = AccountCache(store, ttl=5.0, clock=lambda: now[0])
    signer = app.state.services.signer
    with store.session() as session:
        account_id = session.scalars(select(Account.id).where(Account.username == "checkpoint")).one()
    claims = signer.check(signer.issue(account_id, Role.CHECKPOINT)[0])
    assert cache.get(claims) is None and cache.load(claims).id == account_id
    other = Store(store.url)  # another worker process's store
    with other.session() as session:
        session.execute(update(Account).where(Account.id == account_id).values(active=False))
    other.dispose()
    now[0] = 4.9
    assert cache.get(claims) is not None  # within the bound
    now[0] = 5.1
    assert cache.get(claims) is None and cache.load(claims) is None
