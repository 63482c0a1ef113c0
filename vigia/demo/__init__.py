"""``vigia demo``'s parts: sample outlets on loopback and a Slack channel that prints.

- ``loopback``: the HTTP server base (the tests' news site and Slack stand-in use it too).
- ``pages``: article pages and listings (RSS 2.0, Atom, news sitemap) for sample outlets.
- ``site``: the sample outlets of ``articles.yaml``, served on loopback.
- ``channel``: the Slack sink the demo's alerts go to, printed at the end.
"""
