"""One way to reach Temporal, shared by the worker, the API and the CLI."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from partnerflow.config import Settings


async def connect(settings: Settings) -> Client:
    """Client with the pydantic converter (datetimes, timedeltas and models round-trip)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
