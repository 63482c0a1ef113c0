"""How Scrapy's own messages about failed items reach the log.

An item that a pipeline stage failed on is already one recorded error against its
source (``extensions.PipelineErrorRecorder``: the summary, ``vigia sources``), so
Scrapy's ERROR line with a full traceback would say it a second time, as a stack
dump. It is kept, at DEBUG, for whoever needs the stack.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class VigiaLogFormatter(LogFormatter):
    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        return {**result, "level": logging.DEBUG}
