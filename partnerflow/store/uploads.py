"""Staged uploads: keep a file between its preview and the action it feeds, for one manager, a day."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from partnerflow.store.models import StagedUpload, utcnow

KEEP = timedelta(days=1)


def stage(session: Session, purpose: str, content: bytes, filename: str, manager: str) -> StagedUpload:
    """Store ``content``; older staged files of anyone are dropped on the way."""
    session.execute(delete(StagedUpload).where(col(StagedUpload.created_at) < utcnow() - KEEP))
    upload = StagedUpload(
        id=secrets.token_urlsafe(24),
        purpose=purpose,
        filename=filename[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        created_by=manager,
    )
    session.add(upload)
    return upload


def find(session: Session, upload_id: str, purpose: str, manager: str) -> StagedUpload | None:
    """The manager's own staged file, if still kept."""
    upload = session.get(StagedUpload, upload_id)
    if upload is None or upload.purpose != purpose or upload.created_by != manager:
        return None
    return upload if upload.created_at >= utcnow() - KEEP else None


def discard(session: Session, upload_id: str) -> None:
    session.execute(delete(StagedUpload).where(col(StagedUpload.id) == upload_id))
