"""Health codes from published rules: green, yellow or red for every resident, each with the rule that set it.

The rules are policy data (``<edition>/codes.yaml``, modelled by :mod:`shuzhi.codes.policy`); evidence comes
from the canonical tables and from tracing and risk (:mod:`shuzhi.codes.evidence`); colours are resolved per
day (:mod:`shuzhi.codes.colour`) and over a period (:mod:`shuzhi.codes.history`). All of it is Ibis
expressions run through :mod:`shuzhi.engine`.
"""

from shuzhi.codes.colour import CODES, codes
from shuzhi.codes.history import CHANGES, DAILY, CodeHistory, code_history
from shuzhi.codes.policy import CodePolicy, load_policy

__all__ = ["CHANGES", "CODES", "DAILY", "CodeHistory", "CodePolicy", "code_history", "codes", "load_policy"]
