"""Manager dashboard: server-rendered pages under ``/dashboard`` (Jinja2, no build step).

Mount with ``app.include_router(dashboard.router)``. Every page but sign-in needs the signed
session cookie (``auth.py``); every form post needs the session's CSRF token.
"""

from fastapi import APIRouter, Depends

from partnerflow.api.dashboard import (
    approval_rules,
    auth,
    bans,
    campaigns,
    login,
    migrations,
    outbox,
    partner,
    partner_actions,
    pipeline,
    program_page,
    programs,
    terms,
    webhooks,
    webinar_actions,
    webinars,
)

router = APIRouter(tags=["dashboard"], include_in_schema=False)
router.include_router(login.router, prefix=auth.PATH)
_PAGES = (
    pipeline.router,
    partner.router,
    partner_actions.router,
    programs.router,
    program_page.router,
    approval_rules.router,
    bans.router,
    terms.router,
    campaigns.router,
    migrations.router,
    webinars.router,
    webinar_actions.router,
    webhooks.router,
    outbox.router,
)
for _pages in _PAGES:
    # Belt and braces: each page also asks for the session it renders with.
    router.include_router(_pages, prefix=auth.PATH, dependencies=[Depends(auth.require_session)])

__all__ = ["router"]
