"""Publishing connectors: one small interface, one module per service.

::

    Connector.publish(text, idempotency_key) -> Published(remote_id, url)

A connector raises :class:`ConnectorError` with ``retryable`` set when trying
again may help (a timeout, a 5xx, a 429), and unset when it cannot (bad
credentials, a rejected post). Every request carries the idempotency key, so
a retry after a lost answer cannot post twice.
"""

from postguard.connectors.base import Connector, ConnectorError, Published
from postguard.connectors.factory import KINDS, connector_for

__all__ = ["KINDS", "Connector", "ConnectorError", "Published", "connector_for"]
