"""After an analysis, one ``exchange`` round (the federation trial's): the nation gets Wenzhou's open
statistics and Ningbo a handover of its people, each signed, chained, delivered and answered with a signed
receipt; Ningbo's codes turn the people Wenzhou traced red; the nation's view sums what was published."""

from __future__ import annotations

from serving import wait_for

from shuzhi.credentials.keys import NATIONAL
from shuzhi.engine import connect
from shuzhi.federation import trial
from shuzhi.federation.delivery import Courier, exchange, in_process, pending

from .conftest import NINGBO, T0, WENZHOU


def test_one_round_sends_the_nation_statistics_and_a_region_its_peoples_handover(province):
    done = trial.exchange_round(province.members, T0)
    answered = {
        region: [(d.receipt.status, sorted(d.receipt.landed)) for d in delivered]
        for region, delivered in done.delivered.items()
    }
    assert answered == {
        NATIONAL: [("accepted", ["regional_statistics"])],
        NINGBO: [("accepted", ["received_cases", "received_contacts"])],
    }
    wenzhou = province.member(WENZHOU)
    assert not pending(wenzhou, NATIONAL) and not pending(wenzhou, NINGBO)
    assert connect(lake=province.members[NINGBO].lake).table("received_contacts").count().execute() > 0
    assert done.red_before == 0 < done.red_after
    regions = set(done.national["region"].to_pylist())
    assert regions == {WENZHOU, NATIONAL}  # Wenzhou's own rows, and the nation's sums

    inboxes = {f"https://{r}.trial": province.member(r) for r in (NATIONAL, NINGBO)}
    again = exchange(wenzhou, T0, in_process(inboxes, T0))  # the next analysis: the next of each chain
    assert [d.seq for d in again[NINGBO]] == [2] and again[NINGBO][0].receipt.status == "accepted"


def test_a_courier_after_analysis_exchanges_each_new_analysis_and_only_then(province):
    from shuzhi.pipeline import analyse

    wenzhou = province.member(WENZHOU)
    inboxes = {f"https://{r}.trial": province.member(r) for r in (NATIONAL, NINGBO)}
    courier = Courier(wenzhou, every=0.05, transport=in_process(inboxes, T0), after_analysis=True).start()
    try:
        wait_for(lambda: courier.rounds >= 3)
        assert courier.exchanges == 0  # nothing new since the courier started
        analyse(province.members[WENZHOU], steps=("publish",))  # a new analysis lands
        wait_for(lambda: courier.exchanges == 1 and not pending(wenzhou, NINGBO))
        rounds = courier.rounds
        wait_for(lambda: courier.rounds >= rounds + 3)
        assert courier.exchanges == 1  # and once only
    finally:
        courier.stop()
    assert not pending(wenzhou, NATIONAL)
