"""Who may do what, and for which purpose: the roles of the platform's users and the purposes of processing.

A role is what an account is; a purpose is why an endpoint touches data (the purpose-limitation principle of
PIPL art. 6 and GDPR art. 5). ``PURPOSES`` says which purposes each role may ever serve; an endpoint declares
one purpose and the roles allowed to call it, and a declaration that pairs a role with a purpose it may not
serve is refused when the endpoint is defined (``check_declaration``).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"  # city data bureau: runs the platform, decides appeals, manual colour changes
    EPIDEMIOLOGIST = "epidemiologist"  # CDC staff: cases, tracing, area risk; decides appeals
    CHECKPOINT = "checkpoint"  # checkpoint or venue staff: scans codes and certificates
    ENTERPRISE = "enterprise"  # an enterprise: return-to-work applications, aggregated workforce status
    AUDITOR = "auditor"  # reads and verifies the audit log
    ADMIN = "admin"  # creates and deactivates accounts
    RESIDENT = "resident"  # a person, bound to their person_key


class Purpose(StrEnum):
    AUTHENTICATION = "authentication"  # logging in, reading one's own account
    SELF_SERVICE = "self_service"  # a resident's own declarations, appeals, code and access log
    PASSAGE_CONTROL = "passage_control"  # verifying a code or certificate at a checkpoint, logging passage
    APPEAL_REVIEW = "appeal_review"  # deciding a resident's appeal
    CODE_CORRECTION = "code_correction"  # manual colour changes (GB/T 38963 correction of health information)
    EPIDEMIC_CONTROL = "epidemic_control"  # case management, contact tracing, area risk
    RETURN_TO_WORK = "return_to_work"  # enterprise applications and aggregated workforce status
    AUDIT = "audit"  # reading and verifying the audit log
    ACCOUNT_ADMINISTRATION = "account_administration"  # creating and deactivating accounts
    DATA_PROTECTION = "data_protection"  # retention limits and the sunset: deleting personal data
    FEDERATION = "federation"  # exchange with other regions: signed messages in, the exchange log
    PUBLIC_INFORMATION = "public_information"  # aggregate, non-personal statistics and service health


STAFF = frozenset(Role) - {Role.RESIDENT}

PURPOSES: dict[Role, frozenset[Purpose]] = {
    Role.OPERATOR: frozenset(
        {Purpose.APPEAL_REVIEW, Purpose.CODE_CORRECTION, Purpose.EPIDEMIC_CONTROL, Purpose.RETURN_TO_WORK}
    ),
    Role.EPIDEMIOLOGIST: frozenset({Purpose.APPEAL_REVIEW, Purpose.EPIDEMIC_CONTROL}),
    Role.CHECKPOINT: frozenset({Purpose.PASSAGE_CONTROL}),
    Role.ENTERPRISE: frozenset({Purpose.RETURN_TO_WORK}),
    Role.AUDITOR: frozenset({Purpose.AUDIT}),
    Role.ADMIN: frozenset(
        {Purpose.ACCOUNT_ADMINISTRATION, Purpose.DATA_PROTECTION, Purpose.FEDERATION}
    ),  # not AUDIT: auditors watch admins
    Role.RESIDENT: frozenset({Purpose.SELF_SERVICE}),
}
"""The purposes each role may serve. Every role may also authenticate and read public information."""

OPEN_PURPOSES = frozenset({Purpose.AUTHENTICATION, Purpose.PUBLIC_INFORMATION})


def may_serve(role: Role, purpose: Purpose) -> bool:
    """Whether an account of ``role`` may ever act for ``purpose``."""
    return purpose in OPEN_PURPOSES or purpose in PURPOSES[role]


def check_declaration(roles: frozenset[Role], purpose: Purpose) -> None:
    """Refuse a declaration that lets a role act for a purpose it may not serve."""
    wrong = sorted(r for r in roles if not may_serve(r, purpose))
    if wrong:
        raise ValueError(f"role(s) {', '.join(wrong)} may not act for purpose {purpose!s}")
