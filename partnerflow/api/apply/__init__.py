"""The hosted application page of each program (``/apply/<program>``): public, in the visitor's
language, protected by a signed form token, a honeypot and a per-IP rate limit."""

from partnerflow.api.apply.pages import router

__all__ = ["router"]
