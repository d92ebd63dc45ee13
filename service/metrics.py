"""Prometheus metrics: requests, errors and latency, by endpoint and search mode; searches the notices may not
answer, and feedback."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One app's metrics, in a registry of its own (so that several apps in one process do not mix)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("endpoint", "mode")
        self.requests = Counter(
            "policyqa_requests_total", "HTTP requests answered.", (*labels, "status"), registry=self.registry
        )
        self.errors = Counter(
            "policyqa_errors_total", "HTTP requests answered with an error (status >= 400).", (*labels, "status"),
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "policyqa_request_duration_seconds", "Time to answer a request.", labels, buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.unanswerable = Counter(
            "policyqa_unanswerable_total", "Searches answered with answerable: false.", registry=self.registry
        )
        self.feedback = Counter(
            "policyqa_feedback_total", "Feedback on answers, by whether they helped.", ("helpful",),
            registry=self.registry,
        )  # fmt: skip
        for helpful in (True, False):  # both series from the start, so that a rate over them is defined
            self.feedback.labels(_label(helpful))

    def observe(self, endpoint: str, mode: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.requests.labels(endpoint, mode, str(status)).inc()
        if status >= 400:
            self.errors.labels(endpoint, mode, str(status)).inc()
        self.latency.labels(endpoint, mode).observe(seconds)

    def searched(self, answerable: bool) -> None:
        """Record a search's answer: counted when the notices may not answer it."""
        if not answerable:
            self.unanswerable.inc()

    def feedback_received(self, helpful: bool) -> None:
        """Record feedback on an answer."""
        self.feedback.labels(_label(helpful)).inc()

    def render(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)


def _label(helpful: bool) -> str:
    return "true" if helpful else "false"
