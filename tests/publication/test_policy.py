"""The ``publication`` section: shipped with every edition, validated with the key named."""

from __future__ import annotations

import re

import pytest

from shuzhi.policy import PolicyError, editions
from shuzhi.public import publication_policy


@pytest.mark.parametrize("name", editions())
def test_every_edition_ships_the_section(name):
    assert publication_policy(name).small_counts.suppress_at_or_below == 7


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "small_counts.round_to",
            0,
            "key 'small_counts.round_to': Input should be greater than or equal to 1",
        ),
        ("itineraries.modes", ["rocket"], "key 'itineraries.modes.0'"),
        ("publisher", "", "key 'publisher'"),
    ],
)
def test_a_malformed_section_names_the_key(edition, key, value, message):
    with pytest.raises(PolicyError, match=re.escape(message)):
        publication_policy(edition("2022-9th", "publication", {key: value}))
