"""Short, stable descriptions of why a URL failed, for the report and the source row."""

from __future__ import annotations

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

# Scrapy 2.19 wraps Twisted's errors in its own; older versions raise Twisted's.
SCRAPY_ERRORS = [
    ("CannotResolveHostError", "DNS lookup failed"),
    ("DownloadConnectionRefusedError", "connection refused"),
    ("DownloadTimeoutError", "timed out"),
    ("DownloadCancelledError", "download cancelled"),
    ("ResponseDataLossError", "response cut short"),
    ("DownloadFailedError", "download failed"),
]
NETWORK_ERRORS: list[tuple[type[BaseException], str]] = [
    (getattr(scrapy_errors, name), text) for name, text in SCRAPY_ERRORS if hasattr(scrapy_errors, name)
] + [
    (net_error.DNSLookupError, "DNS lookup failed"),
    (net_error.ConnectionRefusedError, "connection refused"),
    (net_error.TimeoutError, "timed out"),
    (net_error.TCPTimedOutError, "timed out"),
    (net_error.ConnectionLost, "connection lost"),
    (net_error.ConnectionDone, "connection closed"),
    (net_error.ConnectError, "cannot connect"),
]


def describe_failure(failure: Failure) -> str:
    """What went wrong with a request, without a traceback."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        text = f"HTTP {response.status}"
        retry_after = response.headers.get(b"Retry-After")
        if retry_after:
            text += f" (Retry-After: {retry_after.decode('latin-1')})"
        return text
    tls = _tls_reason(exc)
    if tls:
        return f"TLS error: {tls}"
    for kind, text in NETWORK_ERRORS:
        if isinstance(exc, kind):
            return text
    if type(exc).__name__ == "ResponseNeverReceived":
        return "no response (connection dropped)"
    if isinstance(exc, IgnoreRequest):
        return str(exc) or "request ignored"
    name = type(exc).__name__
    detail = str(exc).strip()
    if "TLS" in name or "SSL" in name or "certificate" in detail.lower():
        return f"TLS error: {detail or name}"
    return f"{name}: {detail}" if detail else name


def _tls_reason(exc: BaseException) -> str | None:
    """The TLS failure inside a failed download, if that is what it was.

    Scrapy wraps Twisted's ``ResponseFailed`` (whose ``reasons`` hold the real failures, an
    OpenSSL error among them) in a ``DownloadFailedError`` that only says "download failed".
    """
    for cause in (exc, exc.__cause__):
        for reason in getattr(cause, "reasons", None) or []:
            value = getattr(reason, "value", reason)
            module = type(value).__module__
            if module.startswith("OpenSSL") or "SSL" in type(value).__name__ or "TLS" in type(value).__name__:
                return _openssl_text(value)
    return None


def _openssl_text(value: BaseException) -> str:
    # OpenSSL errors carry a list of (library, function, reason) tuples; the reason reads best.
    details = value.args[0] if value.args else None
    if isinstance(details, list) and details and isinstance(details[0], tuple):
        return ", ".join(str(part[-1]) for part in details)
    return str(value) or type(value).__name__
