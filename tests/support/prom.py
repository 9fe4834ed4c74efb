"""Reading Prometheus text expositions in tests."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def names(text: str) -> set[str]:
    """Every series name in the exposition (``x_total``, ``x_bucket``, ...)."""
    return {sample.name for sample in samples(text)}


def value(text: str, name: str, **labels: str) -> float:
    """Sum of the series ``name`` whose labels include ``labels`` (0 when there is none)."""
    return sum(
        sample.value
        for sample in samples(text)
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def scrape(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text
