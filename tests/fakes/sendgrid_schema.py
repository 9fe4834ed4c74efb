"""SendGrid's published ``/v3/mail/send`` request-body schema, from the vendored OpenAPI document.

``vendor/sendgrid/tsg_mail_v3.json`` is SendGrid's official spec, unchanged (its README names the
source repository and commit). The document is OpenAPI 3.1, whose schema dialect is JSON Schema
2020-12; ``$ref``s resolve inside the document.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent / "vendor" / "sendgrid" / "tsg_mail_v3.json"
SPEC_URI = "urn:sendgrid-oai:spec/json/tsg_mail_v3.json"
SEND_OPERATION = ("/v3/mail/send", "post")


def schema_problems(payload: Any) -> list[tuple[str | None, str]]:
    """``(field, message)`` for each place ``payload`` breaks the request-body schema."""
    return [_problem(error) for error in request_validator().iter_errors(payload)]


@functools.cache
def request_validator() -> Draft202012Validator:
    """A validator for the mail-send request body (with format checking, e.g. ``email``)."""
    spec = openapi_to_json_schema(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
    path, method = SEND_OPERATION
    body = spec["paths"][path][method]["requestBody"]
    pointer = body.get("$ref", f"#/paths/{path.replace('/', '~1')}/{method}/requestBody")
    schema = {"$ref": f"{SPEC_URI}{pointer}/content/application~1json/schema"}
    resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def openapi_to_json_schema(node: Any) -> Any:
    """Read OpenAPI 3.0's ``nullable: true`` (still found in SendGrid's spec) as "or null"."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: openapi_to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        converted["type"] = [*types, "null"]
    return converted


def _problem(error: ValidationError) -> tuple[str | None, str]:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":  # name the missing property, as SendGrid's field does
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        if missing:
            path.append(missing.group(1))
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return ".".join(path) or None, message
