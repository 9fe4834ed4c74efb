"""Deep links stay on the landing site: ``/r/<code>?to=`` is never an open redirect."""

from __future__ import annotations

import re

import pytest

from partnerflow.domain.deep_links import DeepLinkError, landing_link, landing_path, tracking_link

LANDING = "https://shop.example/en/?utm_source=partners"


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/pricing", "/pricing"),
        ("pricing?plan=pro", "/pricing?plan=pro"),
        ("/docs/start#install", "/docs/start#install"),
        ("https://shop.example/blog/post-1?x=1", "/blog/post-1?x=1"),
        ("http://shop.example/", "/"),
        ("shop.example/pricing", "/pricing"),
        ("  /spaces-around  ", "/spaces-around"),
        ("/caf%C3%A9", "/caf%C3%A9"),
    ],
)
def test_paths_and_urls_on_the_landing_host(target: str, path: str) -> None:
    assert landing_path(LANDING, target) == path


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("https://evil.example/", "must stay on the landing site shop.example"),
        ("//evil.example/x", "starts with //"),
        ("https://shop.example.evil.example/", "must stay on the landing site"),
        ("https://shop.example@evil.example/", "must stay on the landing site"),
        ("https://shop.example:8443/", "must stay on the landing site"),
        ("javascript:alert(1)", "must be a path on shop.example or an http(s) URL"),
        ("data:text/html,hi", "must be a path on shop.example or an http(s) URL"),
        ("ftp://shop.example/", "must be a path on shop.example or an http(s) URL"),
        ("/\\evil.example", "must not contain"),
        ("/a b", "must not contain"),
        ("/tab\there", "must not contain"),
        ("", "give a path"),
        ("/" + "x" * 1000, "at most 1000"),
    ],
)
def test_anything_else_is_refused_with_the_reason(target: str, reason: str) -> None:
    with pytest.raises(DeepLinkError, match=re.escape(reason)):
        landing_path(LANDING, target)


def test_the_landing_link_carries_the_code_in_the_query() -> None:
    assert (
        landing_link(LANDING, "/pricing?plan=pro#faq", "abc")
        == "https://shop.example/pricing?plan=pro&ref=abc#faq"
    )
    assert landing_link(LANDING, "/x?ref=someone-else", "abc") == "https://shop.example/x?ref=abc"
    assert tracking_link("https://pf.example/r/abc", "/pricing?plan=pro") == (
        "https://pf.example/r/abc?to=/pricing%3Fplan%3Dpro"
    )
