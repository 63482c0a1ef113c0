"""Outbox rows as Slack messages: each row's article and matches read from the store, then laid out.

The layouts themselves (alerts.story_messages, alerts.listings) know nothing of the
database; this is where a row becomes the ``Story`` and ``RuleHit``s they take.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import digests
from alerts.blocks import Message
from alerts.listings import StoryWithCopies, copies_message, digest_message
from alerts.story_messages import RuleHit, Story, copy_message, story_message
from storage.models import Alert, Article, Match


def story_message_for(session: Session, alert: Alert, locale: str,
                      also_in: Sequence[tuple[str, str]] = ()) -> Message:
    """A story row's top-level message, its rules' hits best first; ``also_in`` lists its copies so far."""
    article = _article(session, alert)
    hits = [RuleHit.from_match(m.rule_id, m.rule_name, m.score, m.explanation) for m in _matches(session, alert)]
    return story_message(story_of(article), hits, locale=locale, also_in=also_in)


def copy_message_for(session: Session, alert: Alert, locale: str) -> Message:
    """A copy row's thread reply under its story's message."""
    return copy_message(story_of(_article(session, alert)), locale=locale)


def digest_message_for(session: Session, channel: str, alerts: list[Alert], locale: str) -> Message:
    """One digest for these rows of one channel and schedule: stories grouped by rule, copies beside them."""
    by_rule: dict[str, dict[int, list[Article]]] = defaultdict(dict)
    names: dict[str, str] = {}
    for alert in alerts:
        article = _article(session, alert)
        for match in _matches(session, alert):
            names.setdefault(match.rule_id, match.rule_name)
        for rule_id in alert.rule_ids or ["?"]:
            by_rule[rule_id].setdefault(alert.story_id, []).append(article)
    sections = []
    for rule_id, stories in by_rule.items():
        entries: list[StoryWithCopies] = [(story_of(arts[0]), [story_of(a) for a in arts[1:]]) for arts in stories.values()]
        sections.append((names.get(rule_id, rule_id), entries))
    count = sum(len(s) for _, s in sections)
    title = digests.title(alerts[0].digest, channel, count, locale)
    return digest_message(title, sections, locale=locale)


def copies_message_for(session: Session, alerts: Sequence[Alert], locale: str) -> Message:
    """Webhook mode: these copy rows listed under the stories they are copies of."""
    clusters: dict[int, list[Article]] = defaultdict(list)
    for alert in alerts:
        clusters[alert.story_id].append(_article(session, alert))
    pairs: list[StoryWithCopies] = []
    for story_article_id, copies in clusters.items():
        story_article = session.get(Article, story_article_id)
        pairs.append((story_of(story_article or copies[0]), [story_of(a) for a in copies]))
    return copies_message(pairs, locale=locale)


def story_of(article: Article) -> Story:
    return Story(url=article.url, outlet=article.outlet, title=article.title, author=article.author,
                 published_at=article.published_at, text=article.text, summary=article.summary)


def _article(session: Session, alert: Alert) -> Article:
    article = session.get(Article, alert.article_id)
    assert article is not None  # an alert row references its article (foreign key)
    return article


def _matches(session: Session, alert: Alert) -> list[Match]:
    """The article's matches for this alert's rules, best first."""
    rows = session.scalars(select(Match).where(Match.article_id == alert.article_id)).all()
    wanted = set(alert.rule_ids or [])
    chosen = [m for m in rows if not wanted or m.rule_id in wanted]
    return sorted(chosen, key=lambda m: -(m.score or 0))
