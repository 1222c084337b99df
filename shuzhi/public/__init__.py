"""Public transparency: open statistics with disclosure control, the public risk map's data, and case
itineraries with the same-trip query — everything here may be read by anyone.

Owns the ``publication`` policy section (:mod:`~shuzhi.public.policy`), the small-count rule as an Ibis
expression (:mod:`~shuzhi.public.disclosure`), the open statistics (:mod:`~shuzhi.public.statistics`) and the
published itineraries (:mod:`~shuzhi.public.itineraries`). The pipeline's ``publish`` step writes the derived
tables ``open_statistics`` and ``published_itineraries``; the public API and page read only those.
"""

from shuzhi.public.itineraries import ITINERARY_SCHEMA, published_itineraries
from shuzhi.public.policy import PublicationPolicy, publication_policy
from shuzhi.public.statistics import OPEN_STATISTICS_SCHEMA, open_statistics

__all__ = [
    "ITINERARY_SCHEMA",
    "OPEN_STATISTICS_SCHEMA",
    "PublicationPolicy",
    "open_statistics",
    "publication_policy",
    "published_itineraries",
]
