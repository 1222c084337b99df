"""Two workers of one instance (two apps on one data directory and one store, as ``uvicorn --workers 2``
runs them): each counts the scans the other took, each alert is raised once and both serve the same
history, each closed stay reaches the lake once; when the writer goes down the other takes over."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from serving import wait_for

from shuzhi.accounts import Role, create_account
from shuzhi.api import ApiSettings, create_app
from shuzhi.lake import Lake

from .test_api import REGISTRY, T0, Clock, verifier, write_registry


def _scan(client: TestClient, headers: dict[str, str], code: str, person: int, direction: str = "in") -> None:
    body = {"checkpoint_code": code, "payload": f"P:{person}", "direction": direction}
    assert client.post("/checkpoint/passages", json=body, headers=headers).status_code == 201


def _account(app, role: Role) -> dict[str, str]:
    with app.state.services.store.session() as session:
        account = create_account(session, role.value, "correct horse battery", role, T0)
        session.flush()
        token, _ = app.state.services.signer.issue(account.id, role)
    return {"Authorization": f"Bearer {token}"}


def _stays_of(data: Path, person: int) -> int:
    stays = Lake(data / "lake").read("venue_stays")
    return sum(1 for p in stays["person_key"].to_pylist() if p == person)


def test_two_workers_count_every_scan_raise_each_alert_once_and_write_each_stay_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_registry(data, REGISTRY)
    clock = Clock()
    first, second = (create_app(ApiSettings(data_dir=data, clock=clock), verifier=verifier) for _ in range(2))
    headers, staff = (_account(first, role) for role in (Role.CHECKPOINT, Role.OPERATOR))
    with TestClient(first) as a, TestClient(second) as b:
        hubs = [first.state.realtime, second.state.realtime]
        assert [hub.writer for hub in hubs] == [True, False]
        for person in range(1, 151):  # the scenic site's limit at low risk is 150: half the scans each
            _scan((a, b)[person % 2], headers, "S1", person)
        wait_for(lambda: all(hub.venue("S1")["occupancy"] == 150 for hub in hubs))
        status = [c.get("/realtime/status", headers=staff).json() for c in (a, b)]
        assert [(x["writer"], x["scans"]) for x in status] == [(True, 150), (False, 150)]
        # each took at least the other's half from the log (and some of its own, when the log got there first)
        assert all(75 <= x["followed"] <= 150 for x in status)
        wait_for(lambda: hubs[1].alerts.last_id == hubs[0].alerts.last_id > 0)
        assert [x.to_json() for x in hubs[1].alerts.since(0)] == [
            x.to_json() for x in hubs[0].alerts.since(0)
        ]
        lines = (data / "realtime" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == hubs[0].alerts.last_id  # raised once, by the writer

        clock.now = T0.replace(minute=30)
        _scan(b, headers, "S1", 1, "out")  # the follower took the exit; the writer writes the stay
        wait_for(lambda: all(hub.venue("S1")["occupancy"] == 149 for hub in hubs))
        hubs[0].stays.flush()
        hubs[1].stays.flush()
        assert _stays_of(data, 1) == 1

        hubs[0].stop()  # the writer goes down: the other takes over at its next tick
        wait_for(lambda: hubs[1].writer)
        assert b.get("/realtime/status", headers=staff).json()["writer"]
        _scan(b, headers, "S1", 2, "out")
        wait_for(lambda: hubs[1].venue("S1")["occupancy"] == 148)
        hubs[1].stays.flush()
        assert _stays_of(data, 2) == 1
