"""A federation of instances on one machine, for trials, benchmarks and tests: a region key for every member
(the nation's signs the national list), the signed national list that trusts them all, every member joined
with one shared pseudonym key and its store migrated. In production each region makes its own key, the nation
merges the regions' published lists (``shuzhi federation publish-trust``) and members ``join``."""

from __future__ import annotations

import datetime as dt

from shuzhi.credentials import trustlist
from shuzhi.credentials.keys import NATIONAL, KeyStore, public_pem
from shuzhi.federation.exchange import KEY_STORE_DIR, join
from shuzhi.privacy.pseudonym import KEY_FILE_NAME, load_or_create_key
from shuzhi.settings import DataDir
from shuzhi.store import sqlite_url, upgrade

KEYS_MADE_BEFORE = dt.timedelta(days=30)  # so the keys sign anything of the month before ``at``


def federate(members: dict[str, DataDir], at: dt.datetime, pseudonyms_from: str) -> None:
    """Make every member's key, the national list (``members`` holds the nation, 100000) and join them all
    with the pseudonym key of ``pseudonyms_from`` (created there if it has none yet)."""
    lists, stores = [], {}
    for region, data in members.items():
        stores[region] = KeyStore(data.secrets / KEY_STORE_DIR)
        stores[region].generate(region, at - KEYS_MADE_BEFORE)
        lists.append(trustlist.regional(stores[region], region, at))
    national = stores[NATIONAL]
    signed = trustlist.sign(trustlist.merge(lists, now=at), national.publisher(NATIONAL, at))
    anchor = public_pem(national.active(NATIONAL, at).public_key)
    key_file = members[pseudonyms_from].secrets / KEY_FILE_NAME
    load_or_create_key(key_file)
    shared = key_file.read_bytes()  # as ``join`` takes the file the federation hands out
    for data in members.values():
        join(data, signed, anchor, shared)
        upgrade(sqlite_url(data.root))
