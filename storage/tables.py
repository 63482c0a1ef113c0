"""The Core tables behind the typed models, for the hot paths that want plain rows.

The crawl writes every article it fetches and reads candidates for its story; those
statements are built once with bind parameters and run on the session's connection, so
SQLAlchemy neither builds ORM objects nor a new statement (and its cache key) per article.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from storage.models import Alert, Article, Match, SlackChannel, Source, StoryBand

articles = cast(Table, Article.__table__)
alerts = cast(Table, Alert.__table__)
matches = cast(Table, Match.__table__)
sources = cast(Table, Source.__table__)
slack_channels = cast(Table, SlackChannel.__table__)
story_bands = cast(Table, StoryBand.__table__)
