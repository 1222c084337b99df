"""The command line: an offline exchange by file (send --out, receive, the receipt), the log, a trial."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from shuzhi.cli import app

from .conftest import HANGZHOU, NATIONAL, keys_only_at


def test_an_offline_exchange_by_file_is_received_and_logged(tmp_path):
    runner = CliRunner()
    keys_only = keys_only_at(tmp_path / "federation", dt.datetime.now(dt.UTC))
    hangzhou, national = keys_only.members[HANGZHOU], keys_only.members[NATIONAL]
    message = tmp_path / "message.cose"
    send = ["federation", "send", "--to", NATIONAL, "--kind", "trust_list", "--region", HANGZHOU]
    sent = runner.invoke(app, [*send, "--out", str(message), "--data", str(hangzhou.root)])
    assert sent.exit_code == 0, sent.output
    received = runner.invoke(
        app, ["federation", "receive", str(message), "--region", NATIONAL, "--data", str(national.root)]
    )
    assert received.exit_code == 0, received.output
    assert (tmp_path / "message.receipt.cose").exists()
    shown = runner.invoke(app, ["federation", "log", "--region", NATIONAL, "--data", str(national.root)])
    assert shown.exit_code == 0 and "trust_list" in shown.output and "accepted" in shown.output
    both = runner.invoke(app, [*send, "--data", str(hangzhou.root)])  # neither --url nor --out
    assert both.exit_code != 0 and "either --url or --out" in both.output


def test_a_trial_federation_runs_on_this_machine_and_says_what_the_round_changed(tmp_path):
    tried = CliRunner().invoke(
        app,
        ["federation", "trial", "--data", str(tmp_path), "--persons", "3000", "--days", "5", "--seed", "1"],
    )
    assert tried.exit_code == 0, tried.output
    assert tried.output.count("message 1 accepted") == 2  # the nation's statistics, Ningbo's handover
    assert "Ningbo residents with a red code: 0 before the handover" in tried.output
    assert (tmp_path / NATIONAL / "lake" / "regional_statistics").is_dir()
