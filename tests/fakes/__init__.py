"""Local stand-ins for external services, for tests."""

from fakes.providers import FakeSendGrid, FakeSlack, RecordedRequest

__all__ = ["FakeSendGrid", "FakeSlack", "RecordedRequest"]
