"""Benchmark: a handover between regions — sealed, opened, checked row by row, landed, answered — against the
bare work on the same rows.

A federation of three instances on disk (``shuzhi.federation.local``); Hangzhou hands Ningbo ``N`` contacts
and ``N / 10`` cases. In one run, on the same rows, each step in its own process (its peak memory is its own):

* ``baseline`` — the least any signed exchange of these rows does: CBOR-encode the body, sign it once
  (ECDSA P-256), CBOR-decode it, write the rows as Parquet;
* ``seal`` — the sender: the message (addressed, numbered, chained) CBOR-encoded and COSE-signed;
* ``accept`` — the receiver: open against the national trust list, check the chain, validate every row
  (pydantic), replace the sender's part in the lake, log the message whole, sign the receipt.

    python benchmarks/federation.py --contacts 10000 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from harness import in_child

HANGZHOU, NINGBO = "330100", "330200"
T0 = dt.datetime(2022, 4, 1, 8, 0)


def handover_body(contacts: int, fingerprint: str) -> dict:
    """``contacts`` contacts of ``contacts / 10`` cases, as a handover's body travels (ISO 8601 times)."""
    cases = max(1, contacts // 10)
    case_rows = [
        {"person_key": 10**12 + c, "status": "confirmed", "onset_date": "2022-03-28",
         "diagnosed_at": "2022-03-30T10:00:00", "county_code": "330203"}
        for c in range(cases)
    ]  # fmt: skip
    contact_rows = []
    for i in range(contacts):
        first = T0 - dt.timedelta(days=3, minutes=i % 600)
        contact_rows.append(
            {
                "case_key": 10**12 + i % cases,
                "contact_key": 2 * 10**12 + i,
                "degree": 1,
                "via_key": None,
                "classification": "close",
                "rule": "shared_table",
                "setting": "meal",
                "place": f"V{i % 5000:07d}",
                "first_contact_at": first.isoformat(),
                "last_contact_at": (first + dt.timedelta(minutes=50)).isoformat(),
                "overlap_seconds": 3000,
                "evidence": f"meal at V{i % 5000:07d} (restaurant): {first:%Y-%m-%d %H:%M}, 50 min",
            }
        )
    return {"pseudonyms": fingerprint, "cases": case_rows, "contacts": contact_rows}


def _federation(root: str) -> dict:
    from shuzhi.credentials.keys import NATIONAL
    from shuzhi.federation import local
    from shuzhi.settings import DataDir

    members = {r: DataDir(Path(root) / r) for r in (NATIONAL, HANGZHOU, NINGBO)}
    local.federate(members, dt.datetime.now(dt.UTC), pseudonyms_from=HANGZHOU)
    return {}


def _member(root: str, region: str):
    from shuzhi.federation import trial
    from shuzhi.settings import DataDir

    return trial.member(DataDir(Path(root) / region), region)


def _message(root: str, contacts: int):
    from shuzhi.federation.messages import HANDOVER, Message, new_id

    hangzhou = _member(root, HANGZHOU)
    body = handover_body(contacts, hangzhou.pseudonyms)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return hangzhou, Message(HANGZHOU, NINGBO, HANDOVER, 1, b"", now, body, new_id())


def baseline(root: str, contacts: int) -> dict:
    import cbor2
    import pyarrow as pa
    import pyarrow.parquet as pq
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    _, message = _message(root, contacts)
    key = ec.generate_private_key(ec.SECP256R1())
    started = time.perf_counter()
    encoded = cbor2.dumps(message.body)
    signature = key.sign(encoded, ec.ECDSA(hashes.SHA256()))
    key.public_key().verify(signature, encoded, ec.ECDSA(hashes.SHA256()))
    decoded = cbor2.loads(encoded)
    pq.write_table(pa.Table.from_pylist(decoded["contacts"]), Path(root) / "baseline.parquet")
    return {"seconds": time.perf_counter() - started, "bytes": len(encoded)}


def seal_and_accept(root: str, contacts: int) -> dict:
    from shuzhi.federation.exchange import accept

    hangzhou, message = _message(root, contacts)
    started = time.perf_counter()
    sealed = hangzhou.sign(message)
    sealed_in = time.perf_counter() - started
    ningbo = _member(root, NINGBO)
    started = time.perf_counter()
    receipt = accept(ningbo, sealed, dt.datetime.now(dt.UTC))
    accepted_in = time.perf_counter() - started
    return {"seal": sealed_in, "accept": accepted_in, "bytes": len(sealed), "receipt_bytes": len(receipt)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for contacts in args.contacts:
        with tempfile.TemporaryDirectory(prefix="shuzhi-federation-bench-") as root:
            in_child(_federation, root)
            base = in_child(baseline, root, contacts)
            timed = in_child(seal_and_accept, root, contacts)
        _report(contacts, base, timed)


def _report(contacts: int, base: dict, timed: dict) -> None:
    total = timed["seal"] + timed["accept"]
    cases = max(1, contacts // 10)
    print(f"\nhandover of {contacts:,} contacts and {cases:,} cases: {timed['bytes']:,} bytes signed")
    print(f"  baseline: CBOR, one signature, Parquet  {base['seconds']:6.2f} s  {base['peak_mib']:6.0f} MiB")
    print(f"  seal                                    {timed['seal']:6.2f} s")
    print(f"  accept: open, check, land, log, receipt {timed['accept']:6.2f} s  {timed['peak_mib']:6.0f} MiB")
    print(
        f"  (seal + accept) / baseline {total / base['seconds']:5.1f}x   {contacts / total:,.0f} contacts/s"
    )


if __name__ == "__main__":
    main()
