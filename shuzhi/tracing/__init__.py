"""Contact tracing (capability 4): close contacts, contacts of contacts and companions by published policy.

``trace(engine, load_policy(edition))`` returns a :class:`TraceResult` with the index cases and the contacts
table (:data:`CONTACTS_SCHEMA`); ``result.graph()`` is the transmission graph for the dashboard;
:mod:`.evaluate` measures recall and precision against a simulator's ground truth. See docs/tracing.md.
"""

from shuzhi.tracing.contacts import CONTACTS_SCHEMA
from shuzhi.tracing.policy import ContactPolicy, load_policy
from shuzhi.tracing.trace import TraceResult, trace

__all__ = ["CONTACTS_SCHEMA", "ContactPolicy", "TraceResult", "load_policy", "trace"]
