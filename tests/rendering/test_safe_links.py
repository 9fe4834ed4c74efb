"""Every link a template builds from a value goes through the one safe-link filter."""

from __future__ import annotations

import re

from partnerflow.rendering.templates import TEMPLATES_DIR

# href="{{ x }}", src='{{ x }}...': an attribute whose value a template fills in.
FILLED = re.compile(r"""\b(href|src)\s*=\s*(["'])([^"']*\{\{[^"']*)\2""")


def test_every_href_and_src_built_from_a_value_uses_safe_url() -> None:
    unfiltered = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        for attribute, _quote, value in FILLED.findall(path.read_text(encoding="utf-8")):
            # A path of ours with an id in it (/dashboard/partners/{{ id }}), or a reference within
            # this page (#{{ field }}, ?locale={{ code }}): neither can name another scheme or site.
            ours = value.startswith(("/", "#", "?"))
            filtered = value.startswith("{{") and re.search(r"\|\s*(safe_url|mailto)\s*}}", value)
            if not (ours or filtered):
                unfiltered.append(f"{path.relative_to(TEMPLATES_DIR)}: {attribute}={value}")
    assert unfiltered == []
