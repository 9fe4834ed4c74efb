"""Partner portal: one signed link shows a partner their onboarding, terms, tracking link and webinar.

The partner id comes only from the verified token, so a link never shows or changes anyone else's
data. Pages are server-rendered HTML that work without JavaScript, one template per locale
(``templates/portal/<locale>/``, see docs/i18n.md). Mount with ``app.include_router(portal.router)``.
"""

from fastapi import APIRouter

from partnerflow.api.portal import account, pages, resend, terms

router = APIRouter(prefix="/portal", tags=["portal"])
for _routes in (pages.router, account.router, terms.router, resend.router):
    router.include_router(_routes)

__all__ = ["router"]
