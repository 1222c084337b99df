"""The operations page in Debian's chromium: an operator decides an appeal and requests a correction that
only a second operator can approve; an auditor reads what happened to a person and sees the chain verified,
then broken; an administrator creates and deactivates accounts and reads the exchange log with other regions.
On an instance of its own (served), since every step changes state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuzhi import audit, idcard
from shuzhi.accounts import Role, create_account
from shuzhi.store import AuditRecord, FederationMessage

from .conftest import log_in, screenshot, serving
from .lake import RESIDENT_KEY
from .site import PASSWORD, Site, build_site

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]
OTHER_KEY = RESIDENT_KEY + 7  # beyond 2^53: a JavaScript number would round it to RESIDENT_KEY
PAGE = "/web/operations.html"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    built = build_site(tmp_path_factory.mktemp("operations") / "data")
    with built.app.state.services.store.session() as session:
        create_account(session, "second-operator", PASSWORD, Role.OPERATOR, built.app.state.services.clock())
    with serving(built.app) as url:
        built.url = url
        yield built


def _wait(page: Any, condition: str) -> None:
    page.wait_for_function(f"() => {{ const s = window.operations; return {condition}; }}")


def _press(page: Any, table: str, row_id: int, button: str) -> None:
    page.locator(f"#{table} tr[data-id='{row_id}']").get_by_role("button", name=button).click()


def test_an_appeal_is_decided_and_a_correction_needs_a_second_operator(
    served: Site, open_page: OpenPage
) -> None:
    client = TestClient(served.app)
    appeal = {"subject": "close_contact", "text": "I was at work that day, not at the restaurant."}
    filed = client.post("/resident/appeals", json=appeal, headers=served.headers("resident")).json()

    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "operator")
    _wait(page, f"s.appeals?.some((a) => a.id === {filed['id']})")
    row = page.locator(f"#appeals-table tr[data-id='{filed['id']}']")
    assert str(RESIDENT_KEY) in row.text_content()  # the exact 64-bit key, not a rounded number
    assert not page.is_visible("#audit-panel") and not page.is_visible("#federation-panel")

    row.get_by_role("button", name="改码 Correct the colour").click()
    assert page.input_value("#change-person") == str(RESIDENT_KEY)
    row.get_by_role("button", name="支持 Uphold").click()  # no reasons written: refused on the page
    page.wait_for_function("() => document.getElementById('appeals-status').dataset.kind === 'error'")
    row.get_by_label("decision").fill("The venue log shows you left before the case arrived.")
    row.get_by_role("button", name="支持 Uphold").click()
    _wait(page, f"s.appeals && !s.appeals.some((a) => a.id === {filed['id']})")
    mine = client.get("/resident/appeals", headers=served.headers("resident")).json()
    decided = next(a for a in mine if a["id"] == filed["id"])
    assert decided["status"] == "upheld" and decided["decision"].startswith("The venue log shows")

    page.fill("#change-person", str(OTHER_KEY))
    page.select_option("#change-colour", "green")
    page.fill("#change-reason", "appeal upheld: left before the case arrived")
    page.click("#change-form button[type=submit]")
    _wait(page, f"s.changes?.some((c) => c.person_key === '{OTHER_KEY}')")
    change = page.evaluate("() => window.operations.changes[0]")
    fields = [change[k] for k in ("person_key", "colour", "requested_by")]
    assert fields == [str(OTHER_KEY), "green", "operator"]

    _press(page, "changes-table", change["id"], "批准 Approve")
    page.wait_for_function("() => document.getElementById('changes-status').dataset.kind === 'error'")
    assert "needs a second operator" in page.text_content("#changes-status")
    screenshot(page, "operations-operator")

    second = open_page()
    log_in(second, f"{served.url}{PAGE}", "second-operator")
    _wait(second, f"s.changes?.some((c) => c.id === {change['id']})")
    _press(second, "changes-table", change["id"], "批准 Approve")
    _wait(second, f"s.changes && !s.changes.some((c) => c.id === {change['id']})")
    operator = served.headers("operator")
    approved = client.get("/operator/manual-changes?status=approved", headers=operator).json()
    assert [(c["person_key"], c["approved_by"]) for c in approved] == [(OTHER_KEY, "second-operator")]


def test_an_auditor_reads_a_persons_records_and_sees_the_chain_verified_then_broken(
    served: Site, open_page: OpenPage
) -> None:
    client = TestClient(served.app)
    body = {"person_key": OTHER_KEY, "colour": "yellow", "reason": "fever reported at the clinic"}
    requested = client.post("/operator/manual-changes", json=body, headers=served.headers("operator"))
    assert requested.status_code == 201

    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "auditor")
    _wait(page, "s.chain?.ok === true && s.audit?.length > 0")
    assert "The chain is intact" in page.text_content("#audit-chain")
    assert not page.is_visible("#appeals-panel")

    page.fill("#audit-person", str(OTHER_KEY))
    page.click("#audit-form button[type=submit]")
    _wait(page, f"s.audit.length > 0 && s.audit.every((r) => r.person_key === '{OTHER_KEY}')")
    actions = page.locator("#audit-table tbody tr td:nth-child(4)").all_text_contents()
    assert "request:manual_changes" in actions
    screenshot(page, "operations-auditor")

    with served.app.state.services.store.session() as session:
        record = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).first()
        seq, original = record.seq, dict(record.detail)
        record.detail = {**original, "tampered": True}
        session.commit()
    try:
        page.click("#audit-verify")
        page.wait_for_function("() => document.getElementById('audit-chain').dataset.kind === 'error'")
        assert f"BROKEN at #{seq}" in page.text_content("#audit-chain")
    finally:
        with served.app.state.services.store.session() as session:
            session.get(AuditRecord, seq).detail = original
            session.commit()


def test_an_auditor_pages_through_every_record_about_a_busy_person(served: Site, open_page: OpenPage) -> None:
    busy = RESIDENT_KEY + 11
    scans = [
        audit.Entry("door-7", "checkpoint", "create:passages", "checkpoint", busy, {"n": n})
        for n in range(501)
    ]
    with served.app.state.services.store.session() as session:
        audit.append_all(session, scans, dt.datetime.now(dt.UTC))
    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "auditor")
    _wait(page, "s.chain?.ok === true")
    page.fill("#audit-person", str(busy))
    page.click("#audit-form button[type=submit]")
    _wait(page, "s.audit.length === 500")
    assert page.is_visible("#audit-more")
    page.click("#audit-more")
    _wait(page, "s.audit.length === 502")  # the last scan, then the auditor's own first read, audited
    rows = page.locator("#audit-table tbody tr")
    assert rows.count() == 502 and not page.is_visible("#audit-more")
    details = rows.locator("td:nth-child(7)").all_text_contents()
    assert details[:501] == [f'{{"n":{n}}}' for n in range(501)]  # in chain order
    assert rows.last.locator("td:nth-child(4)").inner_text() == "read:audit_log"


def test_an_administrator_creates_a_resident_from_an_id_number_and_deactivates_an_account(
    served: Site, open_page: OpenPage
) -> None:
    id_number = "33010619800101002" + idcard.check_char("33010619800101002")
    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "admin")
    _wait(page, "s.accounts?.length > 0")
    page.fill("#account-username", "li.si")
    page.fill("#account-password", "a long enough password")
    page.select_option("#account-role", "resident")
    page.fill("#account-id", id_number[:-1] + ("0" if id_number[-1] != "0" else "1"))  # a wrong check digit
    page.click("#account-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('accounts-status').dataset.kind === 'error'")
    assert "id_number" in page.text_content("#accounts-status")
    page.fill("#account-id", id_number)
    page.click("#account-form button[type=submit]")
    _wait(page, "s.accounts.some((a) => a.username === 'li.si' && a.role === 'resident')")
    assert page.input_value("#account-id") == ""  # the form forgets the ID number once sent

    checkpoint = page.evaluate("() => window.operations.accounts.find((a) => a.username === 'checkpoint').id")
    _press(page, "accounts-table", checkpoint, "停用 Deactivate")
    _wait(page, f"s.accounts.some((a) => a.id === {checkpoint} && !a.active)")
    login = {"username": "checkpoint", "password": PASSWORD}
    assert TestClient(served.app).post("/auth/token", data=login).status_code == 401
    _press(page, "accounts-table", checkpoint, "启用 Reactivate")
    _wait(page, f"s.accounts.some((a) => a.id === {checkpoint} && a.active)")
    screenshot(page, "operations-accounts")


def test_a_user_changes_their_password_and_an_administrator_resets_a_forgotten_one(
    served: Site, open_page: OpenPage
) -> None:
    with served.app.state.services.store.session() as session:
        create_account(session, "forgetful", PASSWORD, Role.OPERATOR, served.app.state.services.clock())
    client = TestClient(served.app)

    def logs_in(password: str) -> bool:
        return client.post("/auth/token", data={"username": "forgetful", "password": password}).is_success

    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "forgetful")
    _wait(page, "s.appeals !== null")
    page.click("#change-password")
    page.fill("#password-current", PASSWORD)
    page.fill("#password-new", "my own new secret")
    page.fill("#password-again", "my own new secretX")
    page.click("#password-form button[type=submit]")
    assert "differ" in page.text_content("#password-status")
    screenshot(page, "password-dialog")
    page.fill("#password-again", "my own new secret")
    page.click("#password-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('password-status').dataset.kind === 'ok'")
    assert logs_in("my own new secret") and not logs_in(PASSWORD)
    page.click("#password-cancel")
    page.reload()  # the page kept the fresh token the change answered with
    _wait(page, "s.appeals !== null")
    assert page.is_visible("#app")

    admin = open_page()
    log_in(admin, f"{served.url}{PAGE}", "admin")
    _wait(admin, "s.accounts?.some((a) => a.username === 'forgetful')")
    row = admin.locator("#accounts-table tr", has_text="forgetful")
    row.locator("input[type=password]").fill("handed over at the desk")
    row.get_by_role("button", name="重设 Reset").click()
    admin.wait_for_function("() => document.getElementById('accounts-status').dataset.kind === 'ok'")
    assert logs_in("handed over at the desk") and not logs_in("my own new secret")


def test_an_administrator_reads_the_exchange_log(served: Site, open_page: OpenPage) -> None:
    now = dt.datetime.now(dt.UTC)
    landed = {"landed": {"received_cases": 3, "received_contacts": 5}, "rejected_rows": [{"index": 2}]}
    rows = [
        ("in", "320000", "handover", 1, "accepted", "", landed),
        ("out", "320000", "statistics", 4, "rejected", "seq: expected message 3 chained to 9f2c", {}),
    ]
    with served.app.state.services.store.session() as session:
        for direction, peer, kind, seq, status, reason, outcome in rows:
            session.add(
                FederationMessage(
                    direction=direction, message_id=f"m{seq}", peer=peer, kind=kind, seq=seq,
                    digest="ab" * 32, prev="", sent_at=now, logged_at=now, status=status, reason=reason,
                    outcome=outcome, sealed=b"\xd2",
                )
            )  # fmt: skip
        session.commit()

    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "admin")
    _wait(page, "s.federation?.length === 2")
    cells = [r.locator("td").all_text_contents() for r in page.locator("#federation-table tbody tr").all()]
    assert [c[-1] for c in cells] == [
        "seq: expected message 3 chained to 9f2c",
        "received_cases 3, received_contacts 5, 1 row refused",
    ]
    screenshot(page, "operations-admin")


def test_a_role_the_page_is_not_for_sees_no_panel(served: Site, open_page: OpenPage) -> None:
    page = open_page()
    log_in(page, f"{served.url}{PAGE}", "checkpoint")
    page.wait_for_function("() => document.getElementById('app-status').dataset.kind === 'error'")
    assert "not checkpoint" in page.text_content("#app-status")
    assert page.locator("section.card:visible").count() == 0
