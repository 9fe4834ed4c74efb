"""Loading rows in activities, with the non-retryable error a workflow can act on."""

from __future__ import annotations

from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from partnerflow.store.models import Partner

PARTNER_NOT_FOUND = "PartnerNotFound"


def require_partner(session: Session, partner_id: str) -> Partner:
    """The partner, or a non-retryable ``PartnerNotFound`` (retrying cannot create the row)."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise ApplicationError(f"partner {partner_id} not found", type=PARTNER_NOT_FOUND, non_retryable=True)
    return partner
