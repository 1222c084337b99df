"""The worklist's live reads of visits and declarations, on SQLite and PostgreSQL: the last visit per person,
the last declaration, and the people visited since a list was made by the outcome of their last visit."""

from __future__ import annotations

import datetime as dt

from shuzhi.accounts import Role, create_account
from shuzhi.store import FollowupVisit, HealthDeclaration, Store
from shuzhi.store.visits import failed_in_a_row, failing, last_declared, last_visits, visited_since

T0 = dt.datetime(2022, 7, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in China
A, B, C, D = 7_000_000_001, 7_000_000_002, 7_000_000_003, 7_000_000_004


def _visits(store: Store) -> None:
    with store.session() as session:
        team = create_account(session, "team-1", "correct horse battery", Role.OPERATOR, T0)
        session.flush()
        rows = [  # person, hours after T0, outcome, county
            (A, 0, "unavailable", "330102"),
            (A, 3, "reached", "330102"),
            (B, 1, "uncooperative", "330105"),
            (C, -30, "reached", "330102"),  # before the list
            (D, -8, "unavailable", "330102"),
            (D, -4, "reached", "330102"),
            (D, -3, "unavailable", "330102"),  # before D's declaration
            (D, 1, "uncooperative", "330102"),
            (D, 2, "unavailable", "330102"),
        ]
        for person, hours, outcome, county in rows:
            at = T0 + dt.timedelta(hours=hours)
            session.add(
                FollowupVisit(
                    person_key=person, visited_at=at, recorded_by=team.id, outcome=outcome, county_code=county
                )
            )
        declared = {"region_code": "330102", "symptoms": [], "contact_history": True, "visited_regions": []}
        for person, hours in ((A, 2), (A, 5), (D, -2)):
            at = T0 + dt.timedelta(hours=hours)
            session.add(HealthDeclaration(person_key=person, declared_at=at, temperature=36.6, **declared))


def test_the_last_visit_and_the_last_declaration_per_person(store: Store) -> None:
    _visits(store)
    with store.session(write=False) as session:
        visits = last_visits(session, [A, B, C, 42])
        assert {k: v.outcome for k, v in visits.items()} == {A: "reached", B: "uncooperative", C: "reached"}
        assert visits[A].visited_at == T0 + dt.timedelta(hours=3) and visits[A].recorder.username == "team-1"
        assert last_declared(session, [A, B]) == {A: T0 + dt.timedelta(hours=5)}  # aware UTC on both
        assert last_visits(session, []) == {} and last_declared(session, []) == {}


def test_people_visited_since_the_list_by_their_last_outcome_and_county(store: Store) -> None:
    _visits(store)
    with store.session(write=False) as session:
        # A once, by the last visit
        assert visited_since(session, T0) == {"reached": 1, "uncooperative": 1, "unavailable": 1}
        assert visited_since(session, T0, "330102") == {"reached": 1, "unavailable": 1}
        assert visited_since(session, T0 - dt.timedelta(days=2), "330102") == {"reached": 2, "unavailable": 1}
        assert visited_since(session, T0 + dt.timedelta(days=1)) == {}


def test_visits_in_a_row_that_failed_to_reach_someone_since_they_last_declared(store: Store) -> None:
    _visits(store)
    with store.session(write=False) as session:
        keys = [A, B, C, D]
        # A was reached last; B failed once; C was reached; D failed twice since declaring (the failure before
        # the declaration, and the one before the reach, do not count)
        assert failed_in_a_row(session, keys, last_declared(session, keys)) == {B: 1, D: 2}
        assert failed_in_a_row(session, keys, {}) == {B: 1, D: 3}  # no declaration known: back to the reach
        assert failed_in_a_row(session, [], {}) == {}
        assert sorted(failing(session, 1)) == [B, D] and failing(session, 2) == [D]
        assert failing(session, 3) == [D] and failing(session, 4) == []  # declarations are not read here
