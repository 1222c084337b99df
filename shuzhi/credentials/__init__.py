"""Signed health codes and certificates that every region accepts, verified offline.

Issuers keep ECDSA P-256 keys in a :class:`~shuzhi.credentials.keys.KeyStore`; tokens are COSE_Sign1 over CWT
claims behind ``SZ1:`` (EU DCCs behind ``HC1:`` verify too); trust lists publish and merge regions' keys and
revocations; :func:`~shuzhi.credentials.verifier.verify` checks a payload or QR image offline; acceptance
policies in CertLogic decide which credentials a region accepts. See docs/credentials.md.
"""

from shuzhi.credentials.verifier import Reason, Verification, verify

__all__ = ["Reason", "Verification", "verify"]
