"""Static assets of the HTML pages (so no page needs an inline script or style) and the API docs."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
ASSETS = {  # an allow-list: nothing else under /static is served
    "portal.css": "text/css",
    "portal.js": "text/javascript",
    "docs.js": "text/javascript",
}
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset {name!r}")
    return FileResponse(
        STATIC_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """FastAPI's Swagger UI page, with its start-up script in /static/docs.js instead of inline."""
    title = escape(f"{request.app.title} - Swagger UI")
    openapi_url = escape(request.app.openapi_url or "/openapi.json")
    return HTMLResponse(
        f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
<link rel="icon" href="https://fastapi.tiangolo.com/img/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""
    )
