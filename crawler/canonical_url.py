"""Canonical article URLs: one key per article whichever feed, tracker or port listed it.

Two links are the same article when they differ only in fragment, tracking parameters,
host case, a default port or query order. Paths keep their case (servers differ on it).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Exact query keys added by newsletters, ads and social sites, never by the article.
TRACKING_KEYS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "ocid", "cmpid", "smid",
        "ref_src", "ref_url", "spm", "mkt_tok", "vero_id", "s_cid", "ns_campaign", "ns_mchannel",
        "ns_source", "ns_linkname", "ns_fee", "sc_cid", "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_", "oly_")
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_KEYS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The storage key of an article URL (raises ValueError for what is no http(s) URL)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normal_escapes(parts.path or "/", safe="/:@!$&'()*+,;=~-._")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_key(k)]
    query_string = urlencode(sorted(query), quote_via=quote, safe="/:@!$'()*,;~-._")
    return urlunsplit((scheme, netloc, path, query_string, ""))


def _normal_escapes(text: str, safe: str) -> str:
    """Decode then re-encode so ``%C3%B1``, ``%c3%b1`` and ``ñ`` compare equal."""
    return quote(unquote(text), safe=safe)
