"""AutoThrottle and unchanged feeds: a 304 lets a host's delay come down, as a 200 does."""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.extensions import PoliteAutoThrottle


def delay_after(extension_class: type[AutoThrottle], status: int, answers: int = 5) -> float:
    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0})
    throttle = extension_class.from_crawler(crawler)
    throttle.mindelay, throttle.maxdelay = 0.0, 30.0  # what spider_opened sets from the settings
    slot = Slot(concurrency=4, delay=2.0, jitter=0)
    for _ in range(answers):
        throttle._adjust_delay(slot, 0.005, Response("http://diario.example/rss.xml", status=status))
    return slot.delay


def test_a_304_lowers_the_delay_like_a_200() -> None:
    assert delay_after(PoliteAutoThrottle, 304) < 0.2
    assert delay_after(PoliteAutoThrottle, 304) == delay_after(PoliteAutoThrottle, 200)


def test_scrapy_s_own_autothrottle_would_hold_it() -> None:
    # Why the subclass exists: the stock extension keeps the delay on any non-200 answer.
    assert delay_after(AutoThrottle, 304) == 2.0


def test_errors_still_never_speed_a_host_up() -> None:
    assert delay_after(PoliteAutoThrottle, 503) == 2.0


def test_the_settings_wire_ours_instead_of_scrapy_s() -> None:
    from crawler import settings

    assert settings.EXTENSIONS["scrapy.extensions.throttle.AutoThrottle"] is None
    assert "crawler.extensions.PoliteAutoThrottle" in settings.EXTENSIONS
