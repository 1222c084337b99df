"""After an analysis, one ``exchange`` round: the nation gets Hangzhou's open statistics and Ningbo a handover
of its people, each signed, chained, delivered and answered with a signed receipt."""

from __future__ import annotations

from shuzhi.credentials.keys import NATIONAL
from shuzhi.engine import connect
from shuzhi.federation.delivery import exchange, pending, remember
from shuzhi.federation.exchange import accept
from shuzhi.federation.messages import MessageError

from .conftest import HANGZHOU, NINGBO, T0


def test_one_round_sends_the_nation_statistics_and_a_region_its_peoples_handover(province):
    hangzhou = province.member(HANGZHOU)
    inboxes = {f"https://{region}.example": province.member(region) for region in (NATIONAL, NINGBO)}
    for url, member in inboxes.items():
        remember(hangzhou.data, member.region, url)

    def transport(url: str):
        def post(sealed: bytes) -> tuple[int, bytes]:
            try:
                return 200, accept(inboxes[url], sealed, T0)
            except MessageError as exc:
                return 422, str(exc).encode()

        return post

    results = exchange(hangzhou, T0, transport)
    answered = {
        region: [(d.receipt.status, sorted(d.receipt.landed)) for d in done]
        for region, done in results.items()
    }
    assert answered == {
        NATIONAL: [("accepted", ["regional_statistics"])],
        NINGBO: [("accepted", ["received_cases", "received_contacts"])],
    }
    assert not pending(hangzhou, NATIONAL) and not pending(hangzhou, NINGBO)
    ningbo = connect(lake=province.members[NINGBO].lake)
    assert ningbo.table("received_contacts").count().to_pyarrow().as_py() > 0

    again = exchange(hangzhou, T0, transport)  # the next analysis: the next message of each chain
    assert [d.seq for d in again[NINGBO]] == [2] and again[NINGBO][0].receipt.status == "accepted"
