"""Cross-region federation: instances exchange cases, contacts, statistics and trust lists as signed messages.

As X-Road joins Estonia's agencies, every message between two instances is signed by the sender's region
key (COSE_Sign1, the key checked against the national trust list), addressed to one region, numbered and
chained to the sender's previous message to it, and kept by both sides — sent and received, accepted or
rejected, with the reason — in the store's federation log; the receiver answers with a signed receipt.

* :mod:`~shuzhi.federation.messages` — the envelope: seal, open and check (pure; no store, no lake);
* :mod:`~shuzhi.federation.bodies` — what each kind carries, validated row by row;
* :mod:`~shuzhi.federation.exchange` — compose from this instance's lake, accept into it, log both;
* :mod:`~shuzhi.federation.national` — the national view over the statistics regions sent.

See docs/federation.md.
"""
