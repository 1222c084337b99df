"""Acceptance policies as CertLogic data: which credentials a region accepts, and as what colour."""

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shuzhi.credentials import acceptance, tokens, trustlist
from shuzhi.credentials.verifier import Reason, verify

from .federation import HANGZHOU, NOW, green_code

ZHEJIANG = acceptance.load("330000")
DCC = Path(__file__).parent.parent / "data" / "dcc" / "vectors"


def _test_payload(hours_before: float, test_type: str = "pcr", result: str = "negative") -> dict:
    credential = tokens.covid_test(test_type, result, NOW - timedelta(hours=hours_before), "lab", HANGZHOU)
    return credential.claim_map()


def _evaluate(policy: acceptance.AcceptancePolicy, kind: str, payload: dict, at: datetime = NOW):
    return policy.evaluate(kind, payload, {"validationClock": at.isoformat()}, at)


def test_the_shipped_policies_load_and_a_city_falls_back_to_its_province():
    assert acceptance.shipped_regions() == ["110000", "330000"]
    assert acceptance.load("330100") == ZHEJIANG
    assert acceptance.load("110105").region == "110000"
    with pytest.raises(acceptance.AcceptanceError, match="no acceptance policy"):
        acceptance.load("440300")


def test_green_codes_from_any_trusted_region_are_accepted_yellow_and_red_are_not(federation):
    trust = federation.national_list()
    accepted = verify(federation.issue(green_code()), trust, now=NOW, acceptance=ZHEJIANG)
    assert accepted.valid and accepted.counts_as == "green"
    for colour in ("yellow", "red"):
        result = verify(
            federation.issue(tokens.health_code(colour, "2022-9th", "x")), trust, now=NOW, acceptance=ZHEJIANG
        )
        assert result.reason is Reason.POLICY_NOT_ACCEPTED
        assert result.detail == (
            "HC-ZJ-0001 v1.0.0: Only green health codes grant entry; yellow and red codes "
            "from any region do not."
        )


def test_a_negative_pcr_test_within_48_hours_counts_as_green(federation):
    trust = federation.national_list()
    taken = tokens.covid_test("pcr", "negative", NOW - timedelta(hours=47), "lab", HANGZHOU)
    result = verify(federation.issue(taken), trust, now=NOW, acceptance=ZHEJIANG)
    assert result.valid and result.counts_as == "green"
    late = verify(federation.issue(taken), trust, now=NOW + timedelta(hours=2), acceptance=ZHEJIANG)
    assert late.reason is Reason.POLICY_NOT_ACCEPTED and late.detail.startswith("TE-ZJ-0003 v1.1.0")


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        (_test_payload(10, test_type="rat"), "TE-ZJ-0002"),
        (_test_payload(10, result="positive"), "TE-ZJ-0001"),
        (_test_payload(-1), "TE-ZJ-0003"),  # sampled after the check
    ],
    ids=["antigen", "positive", "future sample"],
)
def test_tests_that_do_not_count(payload, rule):
    outcome = _evaluate(ZHEJIANG, "t", payload)
    assert not outcome.accepted and [r.split()[0] for r in outcome.reasons] == [rule]


def test_the_newest_rule_version_valid_at_the_check_applies():
    payload = _test_payload(100)
    in_2021 = NOW.replace(year=2021)
    payload["t"][0]["sc"] = (in_2021 - timedelta(hours=100)).isoformat()
    assert _evaluate(ZHEJIANG, "t", payload, in_2021).accepted  # 2020 rule: 168 hours
    assert not _evaluate(ZHEJIANG, "t", _test_payload(100)).accepted  # 2022 rule: 48 hours


@pytest.mark.parametrize(
    ("dose", "given", "accepted"),
    [(2, date(2022, 4, 1), True), (1, date(2022, 4, 1), False), (2, NOW.date() - timedelta(days=10), False)],
    ids=["complete", "incomplete", "too recent"],
)
def test_vaccination(dose, given, accepted):
    payload = tokens.vaccination("CoronaVac", dose, 2, given, HANGZHOU).claim_map()
    assert _evaluate(ZHEJIANG, "v", payload).accepted is accepted


def test_recovery_counts_only_within_its_validity():
    payload = tokens.recovery(date(2022, 3, 1), date(2022, 3, 12), date(2022, 5, 10), HANGZHOU).claim_map()
    assert _evaluate(ZHEJIANG, "r", payload, NOW - timedelta(days=2)).counts_as == "green"
    assert not _evaluate(ZHEJIANG, "r", payload).accepted


def test_a_region_that_does_not_accept_a_certificate_type_says_so():
    outcome = _evaluate(
        acceptance.load("110000"),
        "v",
        tokens.vaccination("CoronaVac", 3, 3, date(2022, 1, 1), HANGZHOU).claim_map(),
    )
    assert not outcome.accepted and outcome.reasons == (
        "110000 does not accept Vaccination credentials for entry",
    )


def test_a_rule_that_cannot_be_evaluated_rejects():
    payload = _test_payload(10)
    del payload["t"][0]["sc"]
    outcome = _evaluate(ZHEJIANG, "t", payload)
    assert not outcome.accepted and "cannot be evaluated" in outcome.reasons[0]


def test_a_malformed_policy_file_is_refused(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {
                "region": "330100",
                "version": "1",
                "purpose": "entry",
                "accepts": {"Pass": "green"},
                "rules": [],
            }
        )
    )
    with pytest.raises(acceptance.AcceptanceError, match="unknown credential types"):
        acceptance.load(path)
    path.write_text(json.dumps({"region": "330100"}))
    with pytest.raises(acceptance.AcceptanceError):
        acceptance.load(path)


def _dcc(name: str):
    vector = json.loads((DCC / name).read_text(encoding="utf-8"))
    clock = datetime.fromisoformat(vector["TESTCTX"]["VALIDATIONCLOCK"]).astimezone(UTC)
    trust = trustlist.from_certificates([base64.b64decode(vector["TESTCTX"]["CERTIFICATE"])])
    return verify(vector["PREFIX"], trust, now=clock, acceptance=ZHEJIANG)


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("SI/2DCode/raw/test-PCR.json", "green"),
        ("SI/2DCode/raw/test-AG.json", "TE-ZJ-0002"),
        ("SI/2DCode/raw/VAC.json", "green"),
        ("DE/2DCode/raw/1.json", "VA-ZJ-0002"),
        ("NL/2DCode/raw/144-NL-recovery.json", "green"),
    ],
)
def test_real_eu_certificates_are_judged_by_the_same_rules(name, verdict):
    result = _dcc(name)
    assert result.scheme == "eu-dcc"
    assert (result.counts_as if result.valid else result.detail.split()[0]) == verdict
