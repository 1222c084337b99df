"""Editions based on others: a folder holds only the sections it changes (``edition.yaml``'s ``based_on``)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from shuzhi.codes import load_policy as code_policy
from shuzhi.pipeline import STEPS, _run_record
from shuzhi.policy import PolicyError, edition_dir, editions, section_path
from shuzhi.realtime.policy import load_policy as crowd_policy
from shuzhi.tracing import load_policy as contact_policy


def _based_on(folder: Path, base: str, name: str = "my-city") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lineage = yaml.safe_dump({"edition": name, "based_on": base})
    (folder / "edition.yaml").write_text(lineage, encoding="utf-8")
    return folder


def test_a_folder_with_one_section_reads_the_others_from_its_base_under_its_own_name(tmp_path):
    folder = _based_on(tmp_path / "my-city", "2022-9th")
    contact = yaml.safe_load((edition_dir("2022-9th") / "contact.yaml").read_text(encoding="utf-8"))
    contact["window"]["days_before_onset"] = 6
    (folder / "contact.yaml").write_text(yaml.safe_dump(contact, allow_unicode=True), encoding="utf-8")
    assert contact_policy(folder).window.days_before_onset == 6  # its own section
    assert section_path(folder, "codes") == edition_dir("2022-9th") / "codes.yaml"
    codes = code_policy(folder)
    assert codes.edition == "my-city"  # the base's rules, in force for this edition
    assert codes.rules == code_policy("2022-9th").rules
    assert crowd_policy(folder) == crowd_policy("2022-9th")


def test_a_step_records_the_hash_of_the_file_in_force(tmp_path):
    folder = _based_on(tmp_path / "my-city", "2022-9th")
    record = _run_record(STEPS["codes"], str(folder), [], 0.0)
    base = (edition_dir("2022-9th") / "codes.yaml").read_bytes()
    assert record["policy"]["codes"] == hashlib.sha256(base).hexdigest()


def test_a_base_may_be_a_folder_beside_it_and_based_on_another(tmp_path):
    _based_on(tmp_path / "province", "2020-5th", "province")
    shutil.copy(edition_dir("2022-9th") / "codes.yaml", tmp_path / "province" / "codes.yaml")
    city = _based_on(tmp_path / "city", "../province", "city")
    assert section_path(city, "codes") == tmp_path / "province" / "codes.yaml"
    assert section_path(city, "contact") == edition_dir("2020-5th") / "contact.yaml"
    assert contact_policy(city).edition == "city"


def test_a_loop_or_an_unknown_base_fails_naming_the_file(tmp_path):
    _based_on(tmp_path / "a", "../b", "a")
    _based_on(tmp_path / "b", "../a", "b")
    with pytest.raises(PolicyError, match="based_on.*loop"):
        code_policy(tmp_path / "a")
    with pytest.raises(PolicyError, match="unknown policy edition 'nowhere'"):
        code_policy(_based_on(tmp_path / "c", "nowhere"))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "edition.yaml").write_text("based_on: 2022-9th\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="edition.yaml: key 'edition'"):
        code_policy(tmp_path / "d")


def test_the_eighth_edition_is_the_ninth_but_for_what_it_changed():
    assert "2021-8th" in editions()
    own = {p.stem for p in edition_dir("2021-8th").glob("*.yaml")} - {"edition"}
    assert own == {"contact", "codes", "area_risk"}
    assert contact_policy("2021-8th").companions is None  # same time-and-place came with the 9th
    close = next(r for r in code_policy("2021-8th").rules if r.id == "close_contact")
    assert [(p.colour, p.days) for p in close.phases] == [("red", 14), ("yellow", 7)]
    assert close.tests.days == [1, 4, 7, 14, 16, 21]
