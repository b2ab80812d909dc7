"""The web application: server-rendered pages (Jinja2) over the same services as the API.

One module per part, as :mod:`postguard.web.routes` has for the API; what
they share (the viewer, role checks, CSRF, rendering) is in
:mod:`postguard.web.pages.common`. The only script is ``static/compose.js``
(live checking as one types), served from here: nothing is loaded from
elsewhere.
"""

from fastapi import APIRouter

from postguard.web.pages import audit, dashboard, drafts, home, media, permissions, policy, registry, session
from postguard.web.pages.common import PAGE_CSP, install_page_handlers, marked, mount_static

__all__ = ["PAGE_CSP", "install_page_handlers", "marked", "mount_static", "router"]

router = APIRouter(include_in_schema=False)
for _part in (session, home, dashboard, drafts, media, permissions, registry, audit, policy):
    router.include_router(_part.router)
