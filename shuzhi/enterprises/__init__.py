"""Enterprise return to work: applications classed by published rules from the lake's data, and their review.

Owns the ``applications`` policy section (:mod:`~shuzhi.enterprises.policy`) and the classification of one
enterprise's application (:mod:`~shuzhi.enterprises.classify`): its county's risk level, the health codes of
its registered staff and the prevention measures it declares, each reason spelled out. The store keeps the
applications (``ReturnToWorkApplication``); the API takes them from enterprise accounts and puts them before
operators; the return-to-work *index* (firms back, electricity) is :mod:`shuzhi.risk.index`'s.
"""

from shuzhi.enterprises.classify import Classification, classify
from shuzhi.enterprises.policy import ApplicationsPolicy, applications_policy

__all__ = ["ApplicationsPolicy", "Classification", "applications_policy", "classify"]
