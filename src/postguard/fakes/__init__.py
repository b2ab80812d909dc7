"""Local stand-ins for the services postguard publishes to, for tests and the ``make run`` demo.

They implement only the endpoints the connectors use, keep what was posted in
memory, and can be told to fail. Never point a real account at them.
"""

from postguard.fakes.bluesky import FakeBluesky
from postguard.fakes.mastodon import FakeMastodon

__all__ = ["FakeBluesky", "FakeMastodon"]
