"""Risk: area risk levels, Zhejiang's five colours, the one index, high-risk flows and the 2020 replay.

Every rule is policy data (``area_risk.yaml`` and ``index.yaml`` of an edition); every analytic is an Ibis
expression run through :mod:`shuzhi.engine`. See ``docs/risk.md``.
"""
