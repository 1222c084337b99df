"""Decision support: epidemic curves per area and day, the reproduction number R(t), short-term projections.

Owns the ``epi`` policy section (:mod:`~shuzhi.decision.policy`), the numerics of R(t) by Cori et al.'s
method and of the renewal projection (:mod:`~shuzhi.decision.rt`, pure numpy/scipy), and the curves read from
the lake through the engine layer (:mod:`~shuzhi.decision.curves`). The pipeline writes the result as the
derived table ``epi``; the dashboard draws it.
"""

from shuzhi.decision.curves import EPI_SCHEMA, daily_cases, epidemic, series_table
from shuzhi.decision.policy import EpiPolicy, epi_policy

__all__ = ["EPI_SCHEMA", "EpiPolicy", "daily_cases", "epi_policy", "epidemic", "series_table"]
