"""Group commit across processes and backends: two app instances on one database (two worker processes),
each with its own writer, scanning at once, on SQLite and — with ``SHUZHI_TEST_PG_URL`` — on PostgreSQL:
every scan lands once, the audit chain stays one valid chain in one serial order."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from shuzhi import audit
from shuzhi.accounts import Role, create_account
from shuzhi.api import ApiSettings, create_app, credentials_verifier
from shuzhi.credentials import keys, tokens, trustlist
from shuzhi.store import AuditRecord, Passage, Store, sqlite_url, upgrade
from shuzhi.store.group import GroupCommit, GroupCommitError

from .conftest import RESIDENT_KEY, T0, Clock

HANGZHOU = "330100"
PER_APP = 100


def test_two_writers_on_one_database_keep_one_chain(database_url: str, tmp_path: Path) -> None:
    key_store = keys.KeyStore(tmp_path / "keys")
    key_store.generate(HANGZHOU, now=T0 - dt.timedelta(days=1))
    trust = trustlist.merge([trustlist.regional(key_store, HANGZHOU, now=T0)], now=T0)
    payload = tokens.issue(
        tokens.health_code("green", "2022-9th", "none"),
        str(RESIDENT_KEY),
        key_store.signer(HANGZHOU, now=T0),
        now=T0,
    )
    apps = [
        create_app(
            ApiSettings(data_dir=tmp_path / "data", database_url=database_url, clock=Clock()),
            verifier=credentials_verifier(trust, HANGZHOU),
        )
        for _ in range(2)
    ]
    store: Store = apps[0].state.services.store
    with store.session() as session:
        account = create_account(session, "gate", "a long password", Role.CHECKPOINT, T0)
    token, _ = apps[0].state.services.signer.issue(account.id, Role.CHECKPOINT)
    headers = {"Authorization": f"Bearer {token}"}

    async def scan_all(app: FastAPI) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as c,
        ):
            body = {"checkpoint_code": "V-1", "payload": payload, "direction": "in"}
            return await asyncio.gather(
                *(c.post("/checkpoint/passages", json=body, headers=headers) for _ in range(PER_APP))
            )

    async def both() -> list[httpx.Response]:
        first, second = await asyncio.gather(*(scan_all(app) for app in apps))
        return [*first, *second]

    responses = asyncio.run(both())
    assert [r.status_code for r in responses] == [201] * 2 * PER_APP, responses[0].text
    ids = sorted(r.json()["id"] for r in responses)
    store = Store(database_url)
    try:
        with store.session(write=False) as session:
            assert [p.id for p in session.scalars(select(Passage).order_by(Passage.id))] == ids
            records = [r for r in session.scalars(select(AuditRecord)) if r.action == "create:passages"]
            assert sorted(r.detail["id"] for r in records) == ids
            report = audit.verify_chain(session)
            assert report.ok and report.records == 2 * PER_APP, report.problem
    finally:
        store.dispose()


def test_the_writer_commits_what_is_queued_when_stopped_and_refuses_what_comes_after(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    upgrade(url)
    store = Store(url)

    def write(session, items: list[int]) -> list[int]:
        return [item * 10 for item in items]

    async def run() -> tuple[list[int], int]:
        writer: GroupCommit[int, int] = GroupCommit(store, write)
        await writer.start()
        pending = [asyncio.ensure_future(writer.submit(n)) for n in range(5)]
        await asyncio.sleep(0)  # queued before the stop
        await writer.stop()
        with pytest.raises(GroupCommitError):
            await writer.submit(99)
        return [await p for p in pending], writer.items

    try:
        assert asyncio.run(run()) == ([0, 10, 20, 30, 40], 5)
    finally:
        store.dispose()
