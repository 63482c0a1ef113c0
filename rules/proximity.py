"""The operators that weigh where hits are: ``near`` (items within N words, sentences or
paragraphs, or all in the lead) and ``about`` (what the story is about, by position)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from .nodes import Node, Requirement
from .wording import join

if TYPE_CHECKING:
    from .matcher import DocContext, Found, Scope

_UNIT_WORDS = {"words": ("word", "words"), "sentences": ("sentence", "sentences"),
               "paragraphs": ("paragraph", "paragraphs")}


@dataclass(eq=False)
class Near(Node):
    """``near``: every child has a hit within ``within`` units of the others (``unit: lead``: all
    of them in the title, the summary or the first ``within`` paragraphs)."""

    path: str
    label: str
    children: list[Node]
    within: int
    unit: str

    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        child_hits = []
        for child in self.children:
            found = child.hits(ctx, scope)
            if found is None:
                return None
            child_hits.append(found)
        if self.unit == "lead":
            return _lead_window(child_hits, ctx, self.within)
        span = self.within if self.unit == "words" else self.within - 1
        if self.by_position:
            collected = _windows_by_position(child_hits, ctx, self.unit, span)
        else:
            collected = self._windows_by_evaluation(ctx, scope, child_hits, span)
        return list(dict.fromkeys(collected)) if collected else None

    @cached_property
    def by_position(self) -> bool:
        """Windows are found from the children's hit positions alone (every child is simple)."""
        return all(child.simple for child in self.children)

    def _windows_by_evaluation(self, ctx: DocContext, scope: Scope, child_hits: list[list[Found]],
                               span: int) -> list[Found]:
        """Every child evaluated again inside each candidate window (all/none/min children)."""
        unit = self.unit
        anchors = sorted({(hit.field, ctx.view.fields[hit.field].unit_index(unit, hit.start))
                          for found in child_hits for hit in found})
        collected: list[Found] = []
        for name, index in anchors:
            window = scope + ((name, unit, index, index + span),)
            in_window: list[Found] = []
            for child in self.children:
                found = child.hits(ctx, window)
                if found is None:
                    break
                in_window += found
            else:
                collected += in_window
        return collected

    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        for child in self.children:
            if child.hits(ctx, scope) is None:
                return child.reason(ctx, scope)
        if self.unit == "lead":
            return (f"{self.name()}: all found, but never all in the title, summary and first "
                    f"{self.within} paragraph(s)")
        what = {"words": "words", "sentences": "sentence(s)", "paragraphs": "paragraph(s)"}[self.unit]
        return f"{self.name()}: all found, but never together within {self.within} {what}"

    def requires(self) -> list[Requirement]:
        return [need for child in self.children for need in child.requires()]

    @property
    def simple(self) -> bool:
        return True  # its hits are already positions

    def failure(self, ctx: DocContext) -> str:
        missing = [child for child in self.children if child.hits(ctx) is None]
        found = [child.shown() for child in self.children if child not in missing]
        if len(missing) == 1:  # the one thing missing, in detail
            return missing[0].failure(ctx) + (f" ({join(found)} found)" if found else "")
        if missing:
            return (f"no {join([child.shown() for child in missing], 'nor')} found"
                    + (f" ({join(found)} found)" if found else ""))
        one, many = _UNIT_WORDS.get(self.unit, (self.unit, self.unit))
        distance = f"one {one}" if self.within == 1 else f"{self.within} {many}"
        if self.unit == "words":
            distance = f"{self.within} {many} of each other"
        elif self.within > 1:
            distance = f"{self.within} consecutive {many}"
        return f"{join([child.shown() for child in self.children])} found but not within {distance}"

    def binding_nodes(self) -> list[Node]:
        return [self] if self.label else []


@dataclass(eq=False)
class About(Node):
    """``about``: the sides (children but the last) each weigh, by position, at least as much as
    the rival (the last child; None when the rule names none)."""

    path: str
    label: str
    children: list[Node]
    lead: int
    has_rival: bool = True

    @property
    def sides(self) -> list[Node]:
        return self.children[:-1] if self.has_rival else self.children

    @property
    def rival(self) -> Node | None:
        return self.children[-1] if self.has_rival else None

    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        side_hits = []
        for side in self.sides:
            found = side.hits(ctx, scope)
            if found is None:
                return None
            side_hits.append(found)
        rival_hits = self._rival_hits(ctx, scope)
        # the common case: no rival in the lead, nothing to weigh
        if rival_hits and _any_in_lead(ctx, rival_hits, self.lead) and not self._weigh(ctx, side_hits, rival_hits)[0]:
            return None
        return list(dict.fromkeys(hit for found in side_hits for hit in found))

    def _rival_hits(self, ctx: DocContext, scope: Scope) -> list[Found]:
        rival = self.rival
        return (rival.hits(ctx, scope) or []) if rival is not None else []

    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        side_hits = []
        for side in self.sides:
            found = side.hits(ctx, scope)
            if found is None:
                return side.reason(ctx, scope)
            side_hits.append(found)
        account = self._weigh(ctx, side_hits, self._rival_hits(ctx, scope))[1]
        return f"{self.name()}: the story is about something else: {account}"

    def requires(self) -> list[Requirement]:
        return [need for side in self.sides for need in side.requires()]  # the rival is weighed, not required

    def _weigh(self, ctx: DocContext, side_hits: list[list[Found]], rival_hits: list[Found]) -> tuple[bool, str]:
        """Every side at least as heavy as the rival?  And the sentence that says so."""
        rival = position_weights(ctx, rival_hits, self.lead)
        # a rival only named further down (a country in a list of embassies) is not what the story is about
        rival_leads = _any_in_lead(ctx, rival_hits, self.lead)
        rival_weight = sum(rival.values()) if rival_leads else 0.0
        parts = []
        ok = True
        for side, found in zip(self.sides, side_hits):
            places = position_weights(ctx, found, self.lead)
            parts.append(describe_weights(side.label or side.path, places))
            ok = ok and sum(places.values()) >= rival_weight
        rival_label = self.rival.label or self.rival.path if self.rival is not None else "rival"
        relation = "≥" if ok else "not all ≥"
        rival_text = describe_weights(rival_label, rival) + ("" if rival_leads or not rival else ", not in the lead: 0")
        return ok, f"{'; '.join(parts)} {relation} {rival_text}"

    def binding(self, ctx: DocContext) -> str:
        """How each side and the rival weigh in the whole document."""
        side_hits = [side.hits(ctx) or [] for side in self.sides]
        return self._weigh(ctx, side_hits, self._rival_hits(ctx, ()))[1]

    def binding_nodes(self) -> list[Node]:
        return [self] if self.label else []


def lead_end(ctx: DocContext, lead: int) -> int:
    """Folded offset where the text's paragraph number ``lead`` (0-based) starts: the lead ends
    there.  A first paragraph that repeats the headline (pages often keep their <h1> in the
    text) takes no place of the lead."""
    text = ctx.view.fields["text"]
    starts = text.starts("paragraphs")
    title = ctx.view.fields["title"].folded.strip()
    if title and len(starts) > 1 and text.folded[: starts[1]].strip() == title:
        lead += 1
    return starts[lead] if lead < len(starts) else len(text.folded) + 1


def _lead_window(child_hits: list[list[Found]], ctx: DocContext, lead: int) -> list[Found] | None:
    """The lead hits of every child when each child has one there (``near`` with ``unit: lead``)."""
    collected: list[Found] = []
    end = lead_end(ctx, lead)
    for found in child_hits:
        kept = [hit for hit in found if hit.field != "text" or hit.start < end]
        if not kept:
            return None
        collected += kept
    return list(dict.fromkeys(collected)) or None


def _any_in_lead(ctx: DocContext, found: list[Found], lead: int) -> bool:
    end = lead_end(ctx, lead)
    return any(hit.field != "text" or hit.start < end for hit in found)


def position_weights(ctx: DocContext, found: list[Found], lead: int) -> dict[str, float]:
    """Where a side is mentioned, each place once: title 3, summary 2, a lead paragraph 2, any
    later paragraph 1 (places named "title", "summary", "¶3")."""
    places: dict[str, float] = {}
    text = ctx.view.fields["text"]
    end = lead_end(ctx, lead)
    for hit in found:
        if hit.field == "title":
            places["title"] = 3.0
        elif hit.field == "summary":
            places["summary"] = 2.0
        else:
            index = text.unit_index("paragraphs", hit.start)
            places[f"¶{index + 1}"] = 2.0 if hit.start < end else 1.0
    return places


def describe_weights(label: str, places: dict[str, float]) -> str:
    ordered = sorted(places, key=lambda place: {"title": -2, "summary": -1}.get(place) or int(place[1:]))
    shown = ", ".join(ordered[:6]) + (", …" if len(ordered) > 6 else "")
    return f"{label} {sum(places.values()):g} ({shown or 'absent'})"


def _windows_by_position(child_hits: list[list[Found]], ctx: DocContext, unit: str, span: int) -> list[Found]:
    """Hits of every window [a, a+span] (in units) where each child has at least one hit."""
    placed = [_by_field_and_unit(found, ctx, unit) for found in child_hits]
    units = [{(name, index) for name, (indices, _) in by_field.items() for index in indices} for by_field in placed]
    # a window of one unit holds only where every child has a hit: the other anchors would fail
    anchors = sorted(set.intersection(*units) if span == 0 else set.union(*units))
    collected: list[Found] = []
    for name, lo in anchors:
        window: list[Found] = []
        for by_field in placed:
            entry = by_field.get(name)
            if entry is None:
                break
            indices, ordered = entry
            first = bisect_left(indices, lo)
            last = bisect_right(indices, lo + span)
            if first == last:
                break
            window += ordered[first:last]
        else:
            collected += window
    return collected


def _by_field_and_unit(found: list[Found], ctx: DocContext, unit: str) -> dict[str, tuple[list[int], list[Found]]]:
    """One child's hits per field, sorted (stably) by the unit they fall in, with those unit indices."""
    by_field: dict[str, list[Found]] = {}
    for hit in found:
        by_field.setdefault(hit.field, []).append(hit)
    placed = {}
    for name, items in by_field.items():
        if unit == "words":
            indices = ctx.word_indices(name, [hit.start for hit in items])
        else:
            starts = ctx.view.fields[name].starts(unit)
            indices = [bisect_right(starts, hit.start) - 1 for hit in items]
        ordered = sorted(indices)
        if ordered != indices:  # a stable sort of the hits by unit index (usually already in order)
            order = sorted(range(len(items)), key=indices.__getitem__)
            items = [items[i] for i in order]
        placed[name] = (ordered, items)
    return placed
