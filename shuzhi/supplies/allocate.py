"""Allocation: each county's need per item, a fair share by risk priority, and the fewest units moved.

1. **Need** — per county and item, the policy's terms over the horizon, each with its numbers in the reason.
2. **Shares** — the stock of all holders together goes to the counties of the first level in the policy's
   ``priority`` (each the same share of its need, up to all of it), then the next level with what is left;
   whole units by the largest remainders.
3. **Shipping** — a transportation linear programme (scipy's HiGHS) sends each county its share from the
   holders (cities' warehouses) moving as few units as possible out of their own city: the optimum of
   moving the same shares, not a heuristic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from shuzhi.supplies.policy import Item, SuppliesPolicy


@dataclass(frozen=True)
class Need:
    county_code: str
    level: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class Shipment:
    holder: str  # the holder's city code
    county_code: str
    quantity: int

    @property
    def across_cities(self) -> bool:
        return self.holder[:4] != self.county_code[:4]


@dataclass(frozen=True)
class Plan:
    """One item's plan: needs, what each county gets, the shipments, and what is short."""

    item: str
    unit: str
    needs: list[Need]
    allocated: dict[str, int]
    shipments: list[Shipment]

    @property
    def short(self) -> int:
        return sum(n.quantity for n in self.needs) - sum(self.allocated.values())


def needs(item: Item, counties: list[dict], policy: SuppliesPolicy) -> list[Need]:
    """The need of every county (rows of ``shuzhi.supplies.needs.COUNTY_NEEDS_SCHEMA``) for ``item``."""
    days = policy.horizon_days
    out = []
    for c in counties:
        terms = []
        per_day = item.per_resident_per_day.get(c["level"], 0)
        if per_day:
            terms.append(
                (
                    days * per_day * c["residents"],
                    f"{days} d × {per_day:g} × {c['residents']:,} residents ({c['level']})",
                )
            )
        if item.per_recent_close_contact:
            count = c["recent_close_contacts"]
            terms.append(
                (
                    item.per_recent_close_contact * count,
                    f"{item.per_recent_close_contact:g} × {count:,} close contacts",
                )
            )
        if item.per_active_case:
            count = c["active_cases"]
            terms.append((item.per_active_case * count, f"{item.per_active_case:g} × {count:,} active cases"))
        quantity = int(np.ceil(round(sum(value for value, _ in terms), 6)))  # 7 × 0.1 × 2000 is 1,400
        reason = " + ".join(text for _, text in terms) or "nothing counted"
        out.append(Need(c["county_code"], c["level"], quantity, f"{reason} = {quantity:,} {item.unit}"))
    return out


def shares(needs_of: list[Need], stock: int, priority: list[str]) -> dict[str, int]:
    """Whole units per county: levels in ``priority`` order, equal shares of need within a level."""
    given = {n.county_code: 0 for n in needs_of}
    left = stock
    for level in priority:
        group = [n for n in needs_of if n.level == level and n.quantity > 0]
        wanted = sum(n.quantity for n in group)
        if not group or left == 0:
            continue
        if left >= wanted:
            given.update({n.county_code: n.quantity for n in group})
            left -= wanted
            continue
        exact = np.array([n.quantity * left / wanted for n in group])
        whole = np.floor(exact).astype(int)
        for i in np.argsort(-(exact - whole), kind="stable")[: left - whole.sum()]:
            whole[i] += 1  # the largest remainders get the units left over
        given.update({n.county_code: int(q) for n, q in zip(group, whole, strict=True)})
        left = 0
    return given


def ship(given: Mapping[str, int], stock: Mapping[str, int]) -> list[Shipment]:
    """Shipments meeting ``given`` from the holders' ``stock``, with the fewest units leaving their city."""
    counties = [c for c, q in given.items() if q > 0]
    holders = [h for h, q in stock.items() if q > 0]
    if not counties:
        return []
    cost = np.array([[float(h[:4] != c[:4]) for c in counties] for h in holders]).ravel()
    n_h, n_c = len(holders), len(counties)
    meet = np.zeros((n_c, n_h * n_c))  # each county gets exactly its share
    for j in range(n_c):
        meet[j, j::n_c] = 1
    supply = np.zeros((n_h, n_h * n_c))  # no holder gives more than it has
    for i in range(n_h):
        supply[i, i * n_c : (i + 1) * n_c] = 1
    result = linprog(
        cost,
        A_ub=supply,
        b_ub=[stock[h] for h in holders],
        A_eq=meet,
        b_eq=[given[c] for c in counties],
        bounds=(0, None),
        method="highs",
    )
    if not result.success:
        raise ValueError(f"no shipment plan: {result.message}")
    amounts = np.rint(result.x).astype(int).reshape(n_h, n_c)
    return [
        Shipment(holders[i], counties[j], int(amounts[i, j]))
        for i in range(n_h)
        for j in range(n_c)
        if amounts[i, j] > 0
    ]


def plan(name: str, counties: list[dict], stock: Mapping[str, int], policy: SuppliesPolicy) -> Plan:
    """The whole plan for item ``name`` from the counties' needs and the holders' stock."""
    item = policy.items[name]
    wanted = needs(item, counties, policy)
    given = shares(wanted, sum(stock.values()), policy.priority)
    return Plan(name, item.unit, wanted, given, ship(given, stock))
