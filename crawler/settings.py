"""Scrapy settings for Vigía: the wiring diagram of the crawl.

``crawler.process.run_crawl`` starts from these and overrides what the ``CrawlSpec``
says (user agent, timeouts, sizes, politeness, Redis). Kept importable on its own so
``scrapy`` commands (scrapy.cfg → crawler.settings) see the same wiring.
"""

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "vigia"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# No open doors: no telnet console, no code-executing remote-control server
# (Scrapy 2.19 starts one on localhost by default and writes its token to the profile).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Politeness.
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
CONCURRENT_REQUESTS = 32
DOWNLOAD_DELAY = 0
# Items handled at once per response. Scrapy starts this many asyncio tasks for every
# callback's output (and a queue-filling one); an article page yields one item, so the
# default 100 cost 100 tasks a page (~5 ms of CPU) for nothing, and any more than one still
# costs a task each. Listings yield requests, which are only enqueued, in their order either way.
CONCURRENT_ITEMS = 1
# Bytes of responses being processed (mostly article pages waiting for an extraction worker)
# above which Scrapy starts no new download. Its default, 5 MB, held ~40 pages for two workers
# that need a few each to stay busy; every held page is memory of the crawl process.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 2_000_000
# First come, first served: Scrapy's default queues are LIFO (depth-first), under which a
# long-lived worker's newest polls would keep overtaking older ones. Priorities still
# put listings before articles.
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# VIGIA_CRAWL_DELAY_CAP and VIGIA_RETRY_AFTER_MAX come from the spec (crawler.process.crawl_settings),
# whose values are vigia.config's: no second copy of them here.

# Limits: a hostile or broken server costs one URL, never the run.
DNS_TIMEOUT = 15
# DOWNLOAD_MAXSIZE (the spec's max_page_bytes) also bounds the decompressed size:
# HttpCompressionMiddleware aborts a gzip/deflate/br/zstd body growing past it (gzip bombs),
# and sitemaps.inflate does the same for .xml.gz files. A page larger than this is only logged.
DOWNLOAD_WARNSIZE = 2_000_000
REDIRECT_MAX_TIMES = 5
METAREFRESH_MAXDELAY = 1  # Scrapy follows a refresh whose delay is below this: instant ones are redirects, "reload every 5 min" is not
RETRY_ENABLED = True
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
# Untrusted links stay outside: every DNS answer is vetted (crawler.resolver), every request
# and redirect checked against its source's own host and port (AddressGuardMiddleware).
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"
if not hasattr(_scrapy_defaults, "TWISTED_DNS_RESOLVER"):  # Scrapy before the rename reads the old name
    DNS_RESOLVER = TWISTED_DNS_RESOLVER

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AddressGuardMiddleware": 40,  # first: no internal host is asked anything
    "crawler.middlewares.CrawlDelayMiddleware": 110,  # right after RobotsTxtMiddleware (100)
    "crawler.middlewares.RetryAfterMiddleware": 560,  # sees responses before RetryMiddleware (550)
    # Scrapy's decodes every whole page to look for a <meta http-equiv="refresh">; ours reads its head.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.HeadMetaRefreshMiddleware": 580,
    # Each middleware costs every request and response a turn through its hooks. These do
    # nothing for this spider: it sets no allowed_domains (AddressGuardMiddleware keeps links
    # where they may go) and no HTTP credentials.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
}
# COOKIES_ENABLED is off (a crawler of feeds and articles keeps no sessions), but the cookie
# middleware's module was still imported to learn that, with tldextract and requests (~3 MB),
# and naming it here, even as None, imports it too.
DOWNLOADER_MIDDLEWARES_BASE = {
    path: order
    for path, order in _scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE.items()
    if not path.endswith(".CookiesMiddleware")
}
# Nor these: no depth limit (listings are bounded per poll, crawler.state), and the
# meta-copy warnings are for spiders that copy response.meta, which ours does not.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# No Referer header (an outlet learns nothing it needs from it), by the referer middleware's
# own policy: without the middleware, each redirect middleware warned at every start that
# it found none to ask.
REFERRER_POLICY = "no-referrer"
DOWNLOADER_STATS = False  # per-request byte counts in the stats, read by nobody

ITEM_PIPELINES = {
    "crawler.pipelines.extract.ExtractPipeline": 100,
    "crawler.pipelines.language.LanguagePipeline": 200,
    "crawler.pipelines.fingerprint.FingerprintPipeline": 300,
    "crawler.pipelines.match.MatchPipeline": 400,
    "crawler.pipelines.store.StorePipeline": 500,
}

# Failed items are recorded against their source; Scrapy's traceback for them goes to DEBUG.
LOG_FORMATTER = "crawler.logformatter.VigiaLogFormatter"

EXTENSIONS = {
    "crawler.extensions.ProgressReporter": 500,
    "crawler.extensions.PipelineErrorRecorder": 500,
    # AUTOTHROTTLE_ENABLED stays the switch; ours also lowers the delay on a 304.
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.extensions.PoliteAutoThrottle": 0,
}
# Scrapy's remote control is off (REMOTE_CONTROL_ENABLED) but still imported, with aiohttp
# (~8 MB of the worker), and naming it in EXTENSIONS, even as None, imports it too.
EXTENSIONS_BASE = {path: order for path, order in _scrapy_defaults.EXTENSIONS_BASE.items() if not path.endswith(".RemoteControl")}

# Only the asyncio reactor: pipelines await asyncio futures (the extraction pool).
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# scrapy-redis (shared queue and dupefilter for several crawler workers) is switched on
# by crawl_settings only when the spec names a Redis URL; see crawler.process.redis_settings.
