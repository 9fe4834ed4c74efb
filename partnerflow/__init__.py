"""Partnerflow: durable Temporal workflows for the whole lifecycle of a partner program."""

__version__ = "0.1.0"
