"""Follow-up: the daily worklist of people under a management measure, and the tests their measure prescribes.

A close contact's code is red because they are in centralised isolation; the protocol also says which days
they are tested on. The measure and the test days are policy data on the health-code rule that sets the code
(``phases[].measure`` and ``tests`` in ``<edition>/codes.yaml``), so the worklist, the code and the resident
read the same rule. :func:`followup` lists, for one day, everyone whose code is set by a measured phase: where
they are managed, which day of how many, the tests taken, missed and next, and a positive test since the
evidence (to be referred for diagnosis). See docs/followup.md.
"""

from shuzhi.followup.worklist import FOLLOWUP, STATUSES, followup, to_csv

__all__ = ["FOLLOWUP", "STATUSES", "followup", "to_csv"]
