"""A signed-in manager in the dashboard, for HTTP tests of its forms (CSRF token from each page)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
FLASH = re.compile(r'<p id="flash" class="flash (\w+)"[^>]*>\s*<strong>[^<]*</strong>\s*([^<]*)</p>')


class Browser:
    """A signed-in manager: GET pages, POST forms with the page's CSRF token, follow the redirect."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token = ""

    async def page(self, path: str) -> str:
        response = await self.http.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        self.token = CSRF.search(response.text).group(1)  # type: ignore[union-attr]
        return response.text

    async def post(
        self, path: str, csrf: bool = True, files: dict[str, Any] | None = None, **data: Any
    ) -> httpx.Response:
        fields = data | ({"csrf_token": self.token} if csrf else {})
        return await self.http.post(path, data=fields, files=files)

    async def submit(
        self, path: str, files: dict[str, Any] | None = None, **data: Any
    ) -> tuple[str, str, str]:
        """Post, follow the 303, and return ``(flash kind, flash message, page)``."""
        response = await self.post(path, files=files, **data)
        assert response.status_code == 303, (response.status_code, response.text[:500])
        page = await self.page(response.headers["location"])
        found = FLASH.search(page)
        assert found, "no flash message after the redirect"
        return found.group(1), " ".join(found.group(2).split()), page


@asynccontextmanager
async def signed_in(base_url: str | httpx.URL, token: str = "tok-alice") -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        form = await http.get("/dashboard/login")
        csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        response = await http.post("/dashboard/login", data={"token": token, "csrf_token": csrf})
        assert response.status_code == 303
        yield Browser(http)
