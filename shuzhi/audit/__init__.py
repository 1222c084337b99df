"""The audit log: who read or changed whose data, why and when, in a hash chain that shows tampering.

``append`` adds a record inside the caller's transaction (so the record and the action it records commit
together); ``verify_chain`` walks the chain and names the first record edited or deleted; ``head`` gives the
anchor to keep outside the database. The rows live in the store's ``audit_log`` table.
"""

from shuzhi.audit.chain import (
    GENESIS,
    ChainHead,
    ChainReport,
    Entry,
    append,
    append_all,
    append_timed,
    head,
    record_hash,
    records,
    verify_chain,
)

__all__ = [
    "GENESIS",
    "ChainHead",
    "ChainReport",
    "Entry",
    "append",
    "append_all",
    "append_timed",
    "head",
    "record_hash",
    "records",
    "verify_chain",
]
