"""Small local HTTP servers that speak just enough SendGrid and Slack for tests.

The fakes live in their own modules (``fakes.sendgrid``, ``fakes.slack``, on the shared
``fakes.server``); this module keeps the one import most tests use::

    from fakes.providers import FakeSendGrid, FakeSlack
"""

from fakes.sendgrid import FakeSendGrid
from fakes.server import RecordedRequest
from fakes.slack import FakeSlack

__all__ = ["FakeSendGrid", "FakeSlack", "RecordedRequest"]
