"""A test federation: real key stores for Hangzhou, Ningbo and the nation, and the signed national list."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shuzhi.credentials import keys, tokens, trustlist

HANGZHOU, NINGBO = "330100", "330200"
T0 = datetime(2022, 5, 1, 8, 0, tzinfo=UTC)  # keys are created here
NOW = T0 + timedelta(days=10)  # tokens are issued and checked around here


@dataclass
class Federation:
    """Two cities and the nation with their own key stores; the national list is signed as in production."""

    root: Path
    hangzhou: keys.KeyStore
    ningbo: keys.KeyStore
    nation: keys.KeyStore

    def national_list(self, at: datetime = NOW) -> trustlist.TrustList:
        """Export both cities' lists, merge them at the national level, sign, and open as a verifier would."""
        pinned = [k.public_key for store, region in self._cities() for k in store.keys(region)]
        regional = [
            trustlist.open_signed(
                trustlist.sign(trustlist.regional(store, region, at), store.publisher(region, at)), pinned
            )
            for store, region in self._cities()
        ]
        merged = trustlist.merge(
            [*regional, trustlist.regional(self.nation, keys.NATIONAL, at)], keys.NATIONAL, at
        )
        signed = trustlist.sign(merged, self.nation.publisher(keys.NATIONAL, at))
        return trustlist.open_signed(signed, [k.public_key for k in self.nation.keys(keys.NATIONAL)])

    def issue(
        self,
        credential: tokens.Credential,
        at: datetime = NOW,
        store: keys.KeyStore | None = None,
        region: str = HANGZHOU,
        lifetime: timedelta | None = None,
    ) -> str:
        signer = (store or self.hangzhou).signer(region, at)
        return tokens.issue(credential, "pseudonym-7f3a", signer, at, lifetime)

    def _cities(self):
        return [(self.hangzhou, HANGZHOU), (self.ningbo, NINGBO)]


def make_federation(root: Path) -> Federation:
    stores = {name: keys.KeyStore(root / name) for name in ("hangzhou", "ningbo", "nation")}
    stores["hangzhou"].generate(HANGZHOU, T0)
    stores["ningbo"].generate(NINGBO, T0)
    stores["nation"].generate(keys.NATIONAL, T0)
    return Federation(root, stores["hangzhou"], stores["ningbo"], stores["nation"])


def green_code() -> tokens.Credential:
    return tokens.health_code("green", "2022-9th", "no_risk")
