"""Supplies: masks, test kits and beds allocated across counties by need, fairly and with the least movement.

Owns the ``supplies`` policy section (:mod:`~shuzhi.supplies.policy`), each county's needs read from the lake
(:mod:`~shuzhi.supplies.needs`, Ibis), the allocation — shares by risk priority and a transportation linear
programme for the shipments (:mod:`~shuzhi.supplies.allocate`) — and the stock a supplies office declares
(:mod:`~shuzhi.supplies.stock`).
"""

from shuzhi.supplies.allocate import Plan, plan
from shuzhi.supplies.plans import PLAN_DAYS, check_plan_day, supply_plans
from shuzhi.supplies.policy import SuppliesPolicy, supplies_policy
from shuzhi.supplies.stock import StockError, read_stock, stock_from_rows

__all__ = [
    "PLAN_DAYS",
    "Plan",
    "StockError",
    "SuppliesPolicy",
    "check_plan_day",
    "plan",
    "read_stock",
    "supplies_policy",
    "stock_from_rows",
    "supply_plans",
]
