"""The credentials command group end to end: keys, trust lists, issuing and verifying, with exit codes."""

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuzhi.credentials.cli import app

runner = CliRunner()
ISSUED = "2022-05-02T08:00:00Z"
CHECKED = "2022-05-02T08:02:00Z"


def _run(*args: str, code: int = 0, stdin: str | None = None) -> str:
    result = runner.invoke(app, [str(a) for a in args], input=stdin)
    assert result.exit_code == code, result.output
    return result.stdout.strip()


@pytest.fixture
def national(tmp_path: Path) -> dict[str, Path]:
    """Hangzhou and the nation set up through the CLI, as operators would."""
    hz, nat = tmp_path / "hz", tmp_path / "nat"
    kid = _run("keygen", "--region", "330100", "--store", hz, "--now", "2022-05-01T00:00:00Z")
    _run("keygen", "--region", "100000", "--store", nat, "--now", "2022-05-01T00:00:00Z")
    _run(
        "trustlist",
        "export",
        "--region",
        "330100",
        "--store",
        hz,
        "--out",
        tmp_path / "hz.tl",
        "--now",
        "2022-05-01T01:00:00Z",
    )
    _run(
        "trustlist",
        "merge",
        tmp_path / "hz.tl",
        "--store",
        nat,
        "--out",
        tmp_path / "national.tl",
        "--anchor",
        hz / "330100" / f"{kid}.pub.pem",
        "--now",
        "2022-05-01T02:00:00Z",
    )
    _run(
        "trustlist",
        "anchor",
        "--store",
        nat,
        "--out",
        tmp_path / "national.pem",
        "--now",
        "2022-05-01T02:00:00Z",
    )
    return {"hz": hz, "tl": tmp_path / "national.tl", "anchor": tmp_path / "national.pem", "root": tmp_path}


def _issue_code(national: dict[str, Path], *extra: str) -> str:
    return _run(
        "issue",
        "code",
        "--region",
        "330100",
        "--store",
        national["hz"],
        "--subject",
        "p-1",
        "--colour",
        "green",
        "--policy-version",
        "2022-9th",
        "--reason",
        "no_risk",
        "--now",
        ISSUED,
        *extra,
    )


def _verify(national: dict[str, Path], credential: str, *extra: str, code: int = 0) -> str:
    return _run("verify", credential, "-t", national["tl"], "--anchor", national["anchor"], *extra, code=code)


def test_issue_then_verify_payload_image_and_stdin(national):
    png = national["root"] / "code.png"
    payload = _issue_code(national, "--qr", png)
    assert payload.startswith("SZ1:") and png.stat().st_size > 0
    assert _verify(national, payload, "--now", CHECKED).startswith(
        "VALID health code issued by 330100 杭州市"
    )
    assert _verify(national, str(png), "--now", CHECKED).startswith("VALID")
    assert _run(
        "verify",
        "-",
        "-t",
        national["tl"],
        "--anchor",
        national["anchor"],
        "--now",
        CHECKED,
        stdin=payload + "\n",
    ).startswith("VALID")


def test_invalid_credentials_exit_with_1_and_name_the_reason(national):
    payload = _issue_code(national)
    assert _verify(national, payload, "--now", "2022-05-02T09:00:00Z", code=1).startswith("INVALID (expired)")
    tampered = payload[:-5] + ("A" if payload[-5] != "A" else "B") + payload[-4:]
    assert _verify(national, tampered, "--now", CHECKED, code=1).startswith("INVALID (malformed)")
    result = json.loads(_verify(national, payload, "--now", CHECKED, "--acceptance", "330000", "--json"))
    assert result["valid"] and result["counts_as"] == "green" and result["issuer"] == "330100"


def test_a_test_certificate_and_the_acceptance_policy(national):
    payload = _run(
        "issue",
        "test",
        "--region",
        "330100",
        "--store",
        national["hz"],
        "--subject",
        "p-2",
        "--sampled",
        "2022-05-01T10:00:00+08:00",
        "--now",
        ISSUED,
    )
    assert "counts as green" in _verify(national, payload, "--now", CHECKED, "--acceptance", "330000")
    rejected = _verify(national, payload, "--now", "2022-05-03T08:00:00Z", "--acceptance", "330000", code=1)
    assert rejected.startswith("INVALID (policy_not_accepted)") and "48 hours" in rejected


def test_revocation_travels_with_the_next_trust_list(national, tmp_path):
    payload = _issue_code(national)
    token_id = json.loads(_verify(national, payload, "--now", CHECKED, "--json"))["token_id"]
    _run("revoke", "--region", "330100", "--store", national["hz"], "--token", token_id)
    _run(
        "trustlist",
        "export",
        "--region",
        "330100",
        "--store",
        national["hz"],
        "--out",
        tmp_path / "hz2.tl",
        "--now",
        "2022-05-02T08:01:00Z",
    )
    _run(
        "trustlist",
        "merge",
        tmp_path / "hz2.tl",
        "--store",
        tmp_path / "nat",
        "--out",
        national["tl"],
        "--previous",
        national["tl"],
        "--now",
        "2022-05-02T08:01:00Z",
    )
    assert _verify(national, payload, "--now", CHECKED, code=1).startswith("INVALID (revoked)")


def test_usage_errors_exit_with_2(national):
    payload = _issue_code(national)
    assert runner.invoke(app, ["verify", payload]).exit_code == 2
    assert runner.invoke(app, ["verify", payload, "-t", str(national["tl"])]).exit_code == 2
    other_anchor = national["root"] / "hz" / "330100"
    pem = next(other_anchor.glob("*.pub.pem"))
    assert (
        runner.invoke(app, ["verify", payload, "-t", str(national["tl"]), "--anchor", str(pem)]).exit_code
        == 2
    )
    assert (
        runner.invoke(app, ["keygen", "--region", "999999", "--store", str(national["root"])]).exit_code == 2
    )


def test_an_eu_dcc_verifies_against_a_dsc_given_on_the_command_line(tmp_path):
    vector = json.loads(
        (
            Path(__file__).parent.parent
            / "data"
            / "dcc"
            / "vectors"
            / "SI"
            / "2DCode"
            / "raw"
            / "test-PCR.json"
        ).read_text(encoding="utf-8")
    )
    der = base64.b64decode(vector["TESTCTX"]["CERTIFICATE"])
    pem = tmp_path / "dsc.pem"
    pem.write_text(
        "-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode() + "-----END CERTIFICATE-----\n"
    )
    clock = vector["TESTCTX"]["VALIDATIONCLOCK"]
    out = _run("verify", vector["PREFIX"], "--dsc", pem, "--now", clock, "--acceptance", "330000")
    assert out.startswith("VALID EU DCC test certificate from SI") and "counts as green" in out


def test_help_texts_explain_the_commands():
    assert "exit code 0 if valid, 1 if invalid" in " ".join(_run("verify", "--help").split())
    for command in (
        ["keygen"],
        ["issue", "code"],
        ["trustlist", "merge"],
        ["trustlist", "export"],
        ["revoke"],
    ):
        assert "Usage" in _run(*command, "--help")
