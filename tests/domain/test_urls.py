"""The URL rule every entry point applies (domain.urls) and the one filter templates use (safe_url)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from partnerflow.domain.signup import SignupPayload
from partnerflow.domain.urls import HttpUrlStr, UnsafeUrl, check_url, url_or_note
from partnerflow.rendering.links import mailto, safe_url

HOSTILE = [
    ("javascript:alert(3)", "must start with http:// or https:// (got javascript:)"),
    ("JaVaScRiPt:alert(3)", "must start with http:// or https:// (got javascript:)"),
    ("  javascript:alert(3)", "must start with http:// or https:// (got javascript:)"),
    ("java\tscript:alert(3)", "must not contain U+0009"),
    ("java\nscript:alert(3)", "must not contain U+000A"),
    ("&#106;avascript:alert(3)", "must start with http:// or https:// (got no scheme)"),
    ("data:text/html;base64,PHNjcmlwdD4=", "must start with http:// or https:// (got data:)"),
    ("vbscript:msgbox(1)", "must start with http:// or https:// (got vbscript:)"),
    ("//evil.example/", "must start with http:// or https:// (got no scheme)"),
    ("https:evil.example", "must be an absolute URL with a host"),
    ("https://user:secret@evil.example/", "must not contain credentials (user:password@)"),
    ('https://ok.example/"><img src=x onerror=alert(1)>', "must not contain '\"'"),
    ("https://ok.example/<script>", "must not contain '<'"),
    ("https://ok.example\\@evil.example/", "must not contain '\\\\'"),
    ("https://ok.example/\u202egnp.exe", "must not contain U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("https://ok.example/a b", "must not contain U+0020 (SPACE)"),
    ("https://ok.example:99999/", "is not a valid URL"),
    ("https://[::1/", "is not a valid URL"),
    ("https://../", "has an invalid host"),
    ("https://" + "a" * 2000 + ".example/", "must be at most 2000 characters long"),
    ("", "must not be empty"),
]


@pytest.mark.parametrize(("url", "message"), HOSTILE)
def test_hostile_urls_are_refused_saying_why(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        check_url(url)
    assert message in str(refused.value)
    assert safe_url(url) == ""


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://example.com", "https://example.com/"),
        (" HTTPS://Example.com/a?b=1#c ", "https://Example.com/a?b=1#c"),
        ("http://example.com?utm=x", "http://example.com/?utm=x"),
        ("https://例え.jp/パス", "https://例え.jp/パス"),
        ("http://[2001:db8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        (
            "https://en.wikipedia.org/wiki/O'Reilly_(publisher)",
            "https://en.wikipedia.org/wiki/O'Reilly_(publisher)",
        ),
    ],
)
def test_plain_web_addresses_pass_in_canonical_form(url: str, stored: str) -> None:
    assert check_url(url) == stored
    assert safe_url(stored) == stored


def test_safe_url_keeps_paths_on_this_site_and_nothing_else() -> None:
    assert safe_url("/portal/abc.def/webinar.ics") == "/portal/abc.def/webinar.ics"
    assert [safe_url(v) for v in ("//evil.example/", "/\\evil.example", "/a b", None, 42, "#top")] == [""] * 6


def test_mailto_links_one_plain_address() -> None:
    assert mailto("ada@example.com") == "mailto:ada@example.com"
    assert [mailto(v) for v in ("ada@example.com?cc=x@y.z", "javascript:a@b", "a@b@c", None)] == [""] * 4


def test_api_fields_and_the_signup_webhook_refuse_them_with_a_precise_422_message() -> None:
    class Body(BaseModel):
        url: HttpUrlStr

    with pytest.raises(ValidationError) as refused:
        Body(url="javascript:alert(3)")
    assert refused.value.errors()[0]["loc"] == ("url",)
    assert "must start with http:// or https://" in refused.value.errors()[0]["msg"]

    with pytest.raises(ValidationError) as refused:
        SignupPayload(email="a@example.com", name="A", website="javascript:alert(3)")
    assert refused.value.errors()[0]["loc"] == ("website",)
    long_site = "https://example.com/" + "a" * 200
    with pytest.raises(ValidationError, match="at most 200 characters"):
        SignupPayload(email="a@example.com", name="A", website=long_site)
    assert SignupPayload(email="a@example.com", name="A", website="  ").website is None
    with pytest.raises(ValidationError, match=r"got no scheme"):  # no guessing: the form says https://
        SignupPayload(email="a@example.com", name="A", website="ada.example")


def test_an_imported_row_keeps_going_without_the_bad_url() -> None:
    assert url_or_note("website", "https://ok.example") == ("https://ok.example/", "")
    assert url_or_note("website", "") == (None, "")
    assert url_or_note("website", "data:text/html,x") == (
        None, "website dropped: it must start with http:// or https:// (got data:)"
    )  # fmt: skip


def test_a_url_without_a_path_is_still_linkable() -> None:
    from partnerflow.domain.urls import is_http_url

    assert is_http_url("https://example.com") and is_http_url("https://example.com/")
