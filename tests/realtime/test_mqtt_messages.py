"""The counter message format, its parser and the ledger that de-duplicates readings (no broker needed)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuzhi.realtime.events import CounterReading
from shuzhi.realtime.mqtt import (
    BrokerAddress,
    CounterLedger,
    MessageError,
    SequenceWindow,
    encode_message,
    parse_message,
)

TOPIC = "venue/330102R00001/counter"
AT = dt.datetime(2020, 2, 10, 0, 15, tzinfo=dt.UTC)


def body(**change: object) -> bytes:
    message = {"device": "330102R00001-1", "seq": 7, "at": "2020-02-10T08:15:00+08:00", "in": 3, "out": 1}
    message.update(change)
    return json.dumps({k: v for k, v in message.items() if v is not ...}).encode()


def test_a_message_reads_into_a_reading_in_utc():
    assert parse_message(TOPIC, body()) == CounterReading("330102R00001", "330102R00001-1", 7, AT, 3, 1)


def test_encode_is_the_inverse_of_parse():
    reading = CounterReading("330102R00001", "330102R00001-2", 12, AT, 0, 5)
    topic, payload = encode_message(reading)
    assert topic == TOPIC
    assert json.loads(payload) == {"device": "330102R00001-2", "seq": 12, "at": "2020-02-10T00:15:00Z",
                                   "in": 0, "out": 5}  # fmt: skip
    assert parse_message(topic, payload) == reading


@pytest.mark.parametrize(
    ("topic", "payload", "field", "reason"),
    [
        ("venue/330102R00001/other", body(), "topic", "venue/<venue code>/counter"),
        ("venue//counter", body(), "topic", "venue code"),
        (TOPIC, b"\xff\xfe", "payload", "not UTF-8"),
        (TOPIC, b"{not json", "payload", "not JSON"),
        (TOPIC, b"[1, 2]", "payload", "JSON object"),
        (TOPIC, b'{"device": "a", "seq": NaN}', "payload", "NaN"),
        (TOPIC, b" " * 5000, "payload", "at most"),
        (TOPIC, body(seq=...), "seq", "missing"),
        (TOPIC, body(battery=80), "battery", "unknown field"),
        (TOPIC, b'{"device": "a", "device": "b"}', "device", "twice"),
        (TOPIC, body(device=""), "device", "letters"),
        (TOPIC, body(device="a b"), "device", "letters"),
        (TOPIC, body(device=7), "device", "letters"),
        (TOPIC, body(seq="7"), "seq", "whole number"),
        (TOPIC, body(seq=7.0), "seq", "whole number"),
        (TOPIC, body(seq=True), "seq", "whole number"),
        (TOPIC, body(seq=0), "seq", "between 1 and"),
        (TOPIC, body(seq=2**63), "seq", "between 1 and"),
        (TOPIC, body(at="yesterday"), "at", "ISO 8601"),
        (TOPIC, body(at="2020-02-10T08:15:00"), "at", "UTC offset"),
        (TOPIC, body(at=1581293700), "at", "ISO 8601"),
        (TOPIC, body(**{"in": -1}), "in", "between 0 and"),
        (TOPIC, body(out=10**9), "out", "between 0 and"),
    ],
)
def test_a_bad_message_names_its_field(topic, payload, field, reason):
    with pytest.raises(MessageError) as err:
        parse_message(topic, payload)
    assert err.value.field == field
    assert reason in str(err.value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.text(max_size=40))
def test_arbitrary_bytes_never_crash_the_parser(payload, venue):
    with contextlib.suppress(MessageError):
        parse_message(f"venue/{venue}/counter", payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["device", "seq", "at", "in", "out", "x"]), json_values))
def test_arbitrary_json_objects_never_crash_the_parser(fields):
    try:
        reading = parse_message(TOPIC, json.dumps(fields).encode())
    except MessageError:
        return
    assert reading.at.tzinfo == dt.UTC and reading.sequence >= 1


def test_broker_urls():
    assert BrokerAddress.parse("mqtt://broker.local") == BrokerAddress("broker.local", 1883)
    assert BrokerAddress.parse("mqtts://u:p%40ss@10.0.0.5:8884") == BrokerAddress("10.0.0.5", 8884, True, "u",
                                                                                  "p@ss")  # fmt: skip
    for bad in ("http://x", "mqtt://", "mqtt://x:port"):
        with pytest.raises(ValueError):
            BrokerAddress.parse(bad)


# ------------------------------------------------------------------------------------------------------------
# De-duplication


def reading(seq: int, device: str = "d-1", entries: int = 1) -> CounterReading:
    return CounterReading("330102R00001", device, seq, AT + dt.timedelta(seconds=seq), entries, 0)


def test_the_window_keeps_the_floor_and_the_sequences_above_it():
    window = SequenceWindow()
    for seq in (1, 2, 5, 4):
        assert not window.seen(seq)
        window.add(seq, window=10)
    assert (window.floor, window.above) == (2, {4, 5})
    window.add(3, window=10)
    assert (window.floor, window.above) == (5, set())
    assert window.seen(1) and window.seen(5) and not window.seen(6)


def test_a_jump_beyond_the_window_gives_up_the_gaps():
    window = SequenceWindow()
    window.add(2, window=10)
    assert window.add(50, window=10) == 39  # 1 and 3..40 given up; 2 was seen
    assert window.floor == 40 and window.above == {50}
    assert window.seen(3) and not window.seen(41)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 60), max_size=200).flatmap(
        lambda extra: st.permutations(list(range(1, 41)) + extra)
    )
)
def test_any_order_with_duplicates_takes_each_sequence_exactly_once(arrivals):
    ledger = CounterLedger(None, window=1024)
    taken = [seq for seq in arrivals if ledger.record(reading(seq))[0]]
    assert sorted(taken) == sorted(set(arrivals))
    assert ledger.window_of("d-1").floor == max(s for s in range(61) if set(range(1, s + 1)) <= set(arrivals))


def test_the_ledger_survives_a_restart(tmp_path):
    path = tmp_path / "counters.sqlite"
    first = CounterLedger(path, window=100)
    for seq in (1, 2, 4, 7):
        assert first.record(reading(seq)) == (True, 0)
    first.close()
    again = CounterLedger(path, window=100)
    assert [again.record(reading(seq))[0] for seq in (4, 3, 1, 7, 5)] == [False, True, False, False, True]
    assert [r.sequence for r in again.readings()] == [1, 2, 3, 4, 5, 7]
    assert again.readings(since=AT + dt.timedelta(seconds=4))[0] == reading(4)
    assert again.prune(AT + dt.timedelta(seconds=3)) == 2
    assert again.record(reading(1)) == (False, 0)  # pruned from the journal, still known as taken
    again.close()


def test_devices_are_independent():
    ledger = CounterLedger(None)
    assert ledger.record(reading(1, "a"))[0] and ledger.record(reading(1, "b"))[0]
    assert not ledger.record(reading(1, "a"))[0]
