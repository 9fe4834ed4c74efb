"""Pure types and rules shared by workflows, activities and the API (no I/O).

Modules holding Temporal payloads (lifecycle, onboarding, engagement, review, messages) do not use
``from __future__ import annotations``: pydantic builds their converters inside Temporal's workflow
sandbox, where string annotations that point at other modules fail to resolve.
"""
