"""The records that flow into live occupancy, whatever brought them (HTTP scans, MQTT counters, a replay)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One message of a turnstile or people counter: people in and out since its previous message.

    ``sequence`` increases by one per message of a device; a transport may deliver a message twice or out of
    order, so consumers de-duplicate on ``(device_id, sequence)``.
    """

    venue_code: str
    device_id: str
    sequence: int
    at: dt.datetime  # UTC, when the device counted
    entries: int
    exits: int
