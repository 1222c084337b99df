"""The command line end to end on a small province: demo, then each command on its data directory."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil

import pyarrow.csv as pa_csv
import pytest
from typer.testing import CliRunner

from shuzhi.cli import app
from shuzhi.engine import connect
from shuzhi.model import CHINA
from shuzhi.policy import edition_dir
from shuzhi.settings import DataDir
from shuzhi.store import HealthDeclaration, Store, sqlite_url

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    result = runner.invoke(
        app, ["demo", "--data", str(data), "--persons", "3000", "--days", "5", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    return DataDir(data), result.output


def test_demo_lands_feeds_and_reports_every_stage(demo_data):
    where, output = demo_data
    manifest = json.loads((where.feeds / "manifest.json").read_text())
    assert manifest["persons"] == 3000 and manifest["dirt_rate"] == pytest.approx(0.02)
    engine = connect(lake=where.lake)
    assert engine.table("venue_stays").count().execute() == manifest["expected"]["venue_stays"]
    for heading in ("The lake", "index cases", "codes: green", "counties: low risk", "Rated", "Demo logins"):
        assert heading in output
    assert (where.outputs / "replay_2020_city_risk.json").exists()  # the dashboard's 2020 panel


def test_demo_gives_every_resident_a_code_with_a_rule(demo_data):
    where, _ = demo_data
    engine = connect(lake=where.lake)
    codes = engine.to_arrow(engine.table("codes")).to_pydict()
    residents = engine.table("residents").count().execute()
    assert len(codes["person_key"]) == residents
    assert all(codes["rule"]) and all(codes["reason"])
    assert set(codes["colour"]) <= {"green", "yellow", "red"}


def test_demo_draws_the_province_s_epidemic_curve_for_every_day(demo_data):
    where, _ = demo_data
    engine = connect(lake=where.lake)
    epi = engine.table("epi")
    province = engine.to_arrow(epi.filter((epi.area_level == "province") & ~epi.projected)).to_pydict()
    assert len(province["day"]) == 5 and set(province["area_code"]) == {"330000"}
    diagnosed = engine.table("diagnoses")
    assert sum(province["cases"]) <= diagnosed.person_key.nunique().execute()
    assert all(province["reason"])


def test_the_catalogue_says_what_is_held_what_ran_and_what_it_achieved(demo_data):
    where, _ = demo_data
    result = runner.invoke(app, ["catalogue", "--data", str(where.root), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    held = {h["name"]: h for h in found["held"]}
    engine = connect(lake=where.lake)
    assert held["venue_stays"]["kind"] == "feed" and held["venue_stays"]["sources"] == ["venue.scans"]
    assert held["venue_stays"]["rows"] == engine.table("venue_stays").count().execute()
    assert held["venue_stays"]["files"] == 5 and held["quarantine"]["rows"] > 0
    assert held["epi"]["sources"] == ["pipeline step epi"] and held["contacts"]["kind"] == "derived"
    assert set(found["algorithms"]) == {
        "trace",
        "risk",
        "index",
        "codes",
        "followup",
        "flows",
        "epi",
        "publish",
    }
    trace = found["algorithms"]["trace"]
    contact_file = edition_dir(trace["edition"]) / "contact.yaml"
    assert trace["policy"]["contact"] == hashlib.sha256(contact_file.read_bytes()).hexdigest()
    assert trace["tables"] == ["contacts"] and trace["engine"] == "duckdb"
    measures = {m["name"]: m for m in found["measures"]}
    assert 0 <= measures["cases found under observation"]["value"] <= 100
    assert measures["close contacts per case"]["value"] > 0


def test_analysis_steps_rerun_without_duplicating(demo_data):
    where, _ = demo_data
    before = connect(lake=where.lake).table("contacts").count().execute()
    result = runner.invoke(app, ["trace", "--data", str(where.root)])
    assert result.exit_code == 0, result.output
    assert connect(lake=where.lake).table("contacts").count().execute() == before
    assert json.loads((where.outputs / "graph.json").read_text())["nodes"]


def test_reingest_adds_nothing(demo_data):
    where, _ = demo_data
    engine = connect(lake=where.lake)
    before = engine.table("venue_stays").count().execute()
    result = runner.invoke(app, ["ingest", str(where.feeds), "--data", str(where.root)])
    assert result.exit_code == 0, result.output
    assert connect(lake=where.lake).table("venue_stays").count().execute() == before


def test_unknown_step_is_refused_with_the_valid_ones(demo_data):
    where, _ = demo_data
    result = runner.invoke(app, ["analyse", "--data", str(where.root), "--step", "astrology"])
    assert result.exit_code != 0
    assert "trace" in str(result.exception)


def test_help_names_every_command():
    result = runner.invoke(app, ["--help"])
    for command in (
        "demo",
        "sim",
        "ingest",
        "analyse",
        "trace",
        "codes",
        "followup",
        "replay",
        "catalogue",
        "serve",
        "verify",
    ):
        assert command in result.output


def test_supplies_plans_the_week_and_names_a_bad_day(demo_data, tmp_path):
    where, _ = demo_data
    stock = tmp_path / "stock.csv"
    stock.write_text("item,holder,quantity\nmasks,330100,100000\n", encoding="utf-8")
    command = ["supplies", "--data", str(where.root), "--stock", str(stock)]
    planned = runner.invoke(app, command)
    assert planned.exit_code == 0, planned.output
    assert "Supplies plan for the week" in planned.output
    for day, reason in (("0001-01-01", "day: 0001-01-01 is outside"), ("not-a-day", "Invalid isoformat")):
        refused = runner.invoke(app, [*command, "--day", day])
        assert refused.exit_code == 2 and reason in refused.output, refused.output


def test_followup_lists_the_worklist_the_analysis_wrote_and_exports_it(demo_data, tmp_path):
    where, output = demo_data
    engine = connect(lake=where.lake)
    stored = engine.to_arrow(engine.table("followup").drop("day")).sort_by("person_key")
    assert stored.num_rows and "Follow-up on" in output
    csv = tmp_path / "worklist.csv"
    listed = runner.invoke(app, ["followup", "--data", str(where.root), "--show", "3", "--csv", str(csv)])
    assert listed.exit_code == 0, listed.output
    assert f"{stored.num_rows:,} people under a measure" in listed.output
    exported = pa_csv.read_csv(csv).sort_by("person_key")
    assert exported["person_key"].to_pylist() == stored["person_key"].to_pylist()
    assert exported["reason"].to_pylist() == stored["reason"].to_pylist()
    refused = runner.invoke(app, ["followup", "--data", str(where.root), "--day", "tomorrow"])
    assert refused.exit_code == 2 and "Invalid isoformat" in refused.output
    county = stored["county_code"][0].as_py()  # one county's team: only its people
    theirs = sum(1 for c in stored["county_code"].to_pylist() if c == county)
    listed = runner.invoke(app, ["followup", "--data", str(where.root), "--county", county, "--show", "0"])
    assert listed.exit_code == 0 and f"in {county}: {theirs:,} people under a measure" in listed.output
    refused = runner.invoke(app, ["followup", "--data", str(where.root), "--county", "3301"])
    assert refused.exit_code == 2 and "not a six-digit county code" in refused.output
    refused = runner.invoke(app, ["followup", "--data", str(where.root), "--edition", "2019-1st"])
    assert refused.exit_code == 2 and "unknown policy edition '2019-1st'" in " ".join(refused.output.split())


@pytest.mark.parametrize("edition", ["2022-9th", "2022-11th"])
def test_every_shipped_edition_analyses_the_province_end_to_end(demo_data, tmp_path, edition):
    copy = tmp_path / "data"
    shutil.copytree(demo_data[0].root, copy)
    result = runner.invoke(app, ["analyse", "--data", str(copy), "--edition", edition])
    assert result.exit_code == 0, result.output
    assert f"under the {edition} edition" in " ".join(result.output.split())
    runs = json.loads((DataDir(copy).outputs / "analysis.json").read_text())["steps"]
    assert {step["edition"] for step in runs.values()} == {edition}


def test_a_fever_declared_in_the_app_colours_the_code_at_the_next_analysis(demo_data, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(demo_data[0].root, copy)
    where = DataDir(copy)
    codes = connect(lake=where.lake).table("codes")
    green = codes.filter(codes.colour == "green").order_by("person_key").limit(1)
    [before] = green.to_pyarrow().to_pylist()
    morning = dt.datetime.combine(before["day"], dt.time(10), CHINA)  # of the day the codes were computed for
    with Store(sqlite_url(copy)).session() as session:  # what POST /resident/declarations/health stores
        fever = {"temperature": 38.4, "symptoms": ["fever", "cough"], "contact_history": False}
        fever |= {"person_key": before["person_key"], "region_code": "330102", "visited_regions": []}
        session.add(HealthDeclaration(declared_at=morning, **fever))
    result = runner.invoke(app, ["analyse", "--data", str(copy), "--step", "codes"])
    assert result.exit_code == 0, result.output
    assert "landed in the lake: 1" in result.output
    codes = connect(lake=where.lake).table("codes")
    [after] = codes.filter(codes.person_key == before["person_key"]).to_pyarrow().to_pylist()
    assert (after["day"], after["colour"], after["rule"]) == (before["day"], "yellow", "symptoms")
    # the analysis records until when the lake holds the app's declarations: later ones are the code's own
    codes_step = json.loads((where.outputs / "analysis.json").read_text())["steps"]["codes"]
    assert dt.datetime.fromisoformat(codes_step["app_declarations_until"]) > morning


def test_a_policy_folder_without_a_section_is_refused_naming_it(demo_data, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(edition_dir("2022-9th"), partial)
    (partial / "index.yaml").unlink()
    result = runner.invoke(app, ["analyse", "--data", str(demo_data[0].root), "--edition", str(partial)])
    assert result.exit_code == 2 and "index" in result.output, result.output


def test_sim_takes_a_parameter_file_and_names_a_bad_key(tmp_path):
    from sim_params import params_file

    app_users = params_file(tmp_path, **{"proximity.app_share": 0.5})
    out = tmp_path / "feeds"
    args = ["sim", str(out), "--persons", "1000", "--days", "2", "--params", str(app_users)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "proximity").iterdir()) == [
        "encounters_20200120.csv",
        "encounters_20200121.csv",
    ]
    (tmp_path / "bad").mkdir()
    bad = params_file(tmp_path / "bad", **{"proximity.app_share": 2})
    result = runner.invoke(app, ["sim", str(tmp_path / "other"), "--params", str(bad)])
    assert result.exit_code == 2 and "proximity.app_share" in result.output


def test_demo_of_a_what_if_traces_an_app_s_records_under_another_edition(tmp_path):
    from sim_params import params_file

    everyone = params_file(tmp_path, **{"proximity.app_share": 1.0, "outbreak.seeds.per_100k": 1500})
    data = tmp_path / "data"
    args = ["demo", "--data", str(data), "--persons", "2000", "--days", "4", "--no-serve"]
    result = runner.invoke(app, [*args, "--params", str(everyone), "--edition", "2022-9th"])
    assert result.exit_code == 0, result.output
    assert "2022-9th edition" in " ".join(result.output.split())
    assert "Close contacts by setting:" in result.output and "proximity" in result.output
    contacts = connect(lake=DataDir(data).lake).table("contacts")
    assert contacts.filter(contacts.rule == "proximity").count().execute() > 0
