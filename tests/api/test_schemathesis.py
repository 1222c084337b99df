"""Schemathesis over the app's own OpenAPI document: no server error and no response that breaks its schema.

Every operation is called with generated requests (up to 100 examples each: about 45 s in all, within two
minutes) as a role it admits (its ``x-roles``; a token per role, issued directly), on an instance with fixture
results in its lake (``tests/web/lake.py``) and its own signing key, so the dashboard, the resident's code and
the checkpoint answer with data rather than 404/503. Accounts that a generated ``PATCH /admin/accounts``
deactivated are switched on again before each call, so later calls are not all turned away with 401.
The server-sent-events stream of alerts waits ``seconds`` for new alerts before it ends: generated values are
capped at a fraction of a second, so each example answers instead of holding the run for up to an hour.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from shuzhi.accounts import Role
from shuzhi.api.routers import ROUTERS
from shuzhi.store import Account

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import BaseSchema, Case  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from web.site import Site, build_site  # noqa: E402 — tests/web, next to this package

# federation messages are signed bytes: random ones must be refused cleanly (422), never a server error
schemathesis.openapi.media_type("application/cose", st.binary(min_size=1, max_size=512))

MAX_EXAMPLES = 100
STREAM_SECONDS = 0.2
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(Path(tmp_path_factory.mktemp("schemathesis")) / "data")


@pytest.fixture(scope="module")
def api_schema(site: Site) -> BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", site.app)


OPERATIONS = [
    (method, route.path) for router in ROUTERS for route in router.routes for method in route.methods
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_and_every_response_matches_its_schema(
    api_schema: BaseSchema, site: Site, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    statuses: set[int] = set()

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Case) -> None:
        _restore_accounts(site)
        _bound_streams(case)
        statuses.add(case.call_and_validate(headers=_headers(case, site), checks=CHECKS).status_code)

    call()
    if method == "GET" and "{" not in path:  # the token and the fixture results let reads through
        assert any(200 <= code < 300 for code in statuses), statuses


def _headers(case: Case, site: Site) -> dict[str, str]:
    """A bearer token of the first role the operation admits; none for an open one."""
    roles = case.operation.definition.raw.get("x-roles", ["anyone"])
    return {} if roles == ["anyone"] else site.headers(Role(roles[0]).value)


def _bound_streams(case: Case) -> None:
    """Cap how long an SSE stream waits for new alerts (``seconds``), keeping the rest of the example."""
    query = case.query or {}
    try:
        if float(query.get("seconds", 0)) > STREAM_SECONDS:
            query["seconds"] = STREAM_SECONDS
    except (TypeError, ValueError):
        pass  # not a number: answered with 422 at once


def _restore_accounts(site: Site) -> None:
    """Undo what an example did to the accounts the tokens speak for: deactivated, or given a new password."""
    with site.app.state.services.store.session() as session:
        session.execute(update(Account).values(active=True, credentials_changed_at=None))
