"""Benchmark: offline verifications per second on one core, and QR sizes of shuzhi tokens.

The process is pinned to one CPU and rates are per CPU second of it. For health codes and test certificates it
times the full ``verify`` (base45, zlib, COSE, trust-list lookup, ES256 signature, claims, validity,
revocation) and, with Zhejiang's acceptance policy, the CertLogic rules too. The baseline, measured in the
same run on the same signatures, is a bare ``cryptography`` ECDSA P-256 verify of the signed bytes: the ratio
says what everything around the signature costs. Absolute figures depend on the machine; compare ratios.

    python benchmarks/verify.py --seconds 2
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from shuzhi.credentials import acceptance, cose, envelope, keys, qr, tokens, trustlist
from shuzhi.credentials.verifier import verify

NOW = datetime(2022, 5, 2, 8, 0, tzinfo=UTC)
REGION = "330100"


def _rate(run: Callable[[int], None], count: int, seconds: float) -> float:
    """Calls per CPU second of ``run(i)`` over ``count`` distinct inputs, for at least ``seconds`` of CPU.

    CPU time of this pinned, single-threaded process, not wall time, so a busy machine does not skew it."""
    done, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        for i in range(count):
            run(i)
        done += count
    return done / (time.process_time() - started)


def _setup(root: Path, count: int) -> tuple[trustlist.TrustList, dict[str, list[str]]]:
    store = keys.KeyStore(root)
    store.generate(REGION, NOW - timedelta(days=1))
    signer = store.signer(REGION, NOW)
    signed = trustlist.sign(trustlist.regional(store, REGION, NOW), store.publisher(REGION, NOW))
    trust = trustlist.open_signed(signed, [signer.info.public_key])
    credentials = {
        "health code": tokens.health_code("green", "2022-9th", "no_risk"),
        "test certificate": tokens.covid_test(
            "pcr", "negative", NOW - timedelta(hours=20), "杭州市疾控中心", REGION
        ),
    }
    subjects = [os.urandom(16).hex() for _ in range(count)]  # keyed-hash pseudonyms are 32 hex characters
    payloads = {name: [tokens.issue(c, s, signer, NOW) for s in subjects] for name, c in credentials.items()}
    return trust, payloads


def _baseline(trust: trustlist.TrustList, payloads: list[str]) -> Callable[[int], None]:
    """A bare ECDSA P-256 verify of the same Sig_structure bytes and signatures."""
    key = trust.keys[0].public_key
    prepared = []
    for payload in payloads:
        message = cose.decode(envelope.unwrap(payload)[1])
        r, s = int.from_bytes(message.signature[:32], "big"), int.from_bytes(message.signature[32:], "big")
        prepared.append((encode_dss_signature(r, s), message.to_be_signed()))
    algorithm = ec.ECDSA(hashes.SHA256())
    return lambda i: key.verify(prepared[i][0], prepared[i][1], algorithm)


def _checked(run: Callable[[int], object]) -> Callable[[int], None]:
    def call(i: int) -> None:
        if not run(i).valid:
            raise AssertionError("a benchmark token failed to verify")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time each measurement at least this long")
    parser.add_argument("--tokens", type=int, default=500, help="distinct tokens per credential type")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    policy = acceptance.load("330000")
    with tempfile.TemporaryDirectory() as root:
        trust, payloads = _setup(Path(root), args.tokens)
    figures: dict = {"cpu": sorted(os.sched_getaffinity(0)), "tokens": args.tokens}
    baseline = _rate(_baseline(trust, payloads["health code"]), args.tokens, args.seconds)
    figures["bare ECDSA P-256 verify /s"] = round(baseline)
    for name, texts in payloads.items():
        info = qr.render(texts[0])
        plain = _rate(_checked(lambda i, t=texts: verify(t[i], trust, now=NOW)), args.tokens, args.seconds)
        ruled = _rate(
            _checked(lambda i, t=texts: verify(t[i], trust, now=NOW, acceptance=policy)),
            args.tokens,
            args.seconds,
        )
        figures[name] = {
            "payload characters": len(texts[0]),
            "qr": info.describe(),
            "verify /s": round(plain),
            "verify + acceptance rules /s": round(ruled),
            "ratio to bare ECDSA": round(plain / baseline, 3),
        }
    print(json.dumps(figures, ensure_ascii=False, indent=2) if args.json else _report(figures))


def _report(figures: dict) -> str:
    lines = [
        f"one core (cpu {figures['cpu'][0]}), {figures['tokens']} distinct tokens per type",
        f"bare cryptography ECDSA P-256 verify: {figures['bare ECDSA P-256 verify /s']:,}/s",
    ]
    for name, row in figures.items():
        if isinstance(row, dict):
            lines += [
                f"{name}: {row['payload characters']} characters, {row['qr']}",
                f"  verify {row['verify /s']:,}/s (ratio {row['ratio to bare ECDSA']} of bare ECDSA); "
                f"with Zhejiang's acceptance rules {row['verify + acceptance rules /s']:,}/s",
            ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
