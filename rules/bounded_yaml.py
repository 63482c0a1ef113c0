"""YAML loading that refuses anchor bombs: aliases may not multiply a document's size.

A YAML alias is a pointer: ``a: &x [...]`` then ``b: [*x, *x, *x]`` composes to a few
shared nodes, but everything that walks the result (``${VAR}`` expansion, validation, rule
compilation) walks each reference again. Nine levels of ten aliases ("billion laughs") is a
kilobyte of text and a billion nodes to walk. So after composing (cheap: aliases stay
shared) and before constructing anything, the document's expanded size is counted — each
distinct node once, memoised, so the count itself is linear — and refused when aliases
add more than ``MAX_ALIAS_NODES`` nodes, or refer to themselves.

Used for rule files here and for the config by vigia/.
"""

from __future__ import annotations

from typing import IO, Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no types (types-PyYAML is not a dependency)

# Nodes that aliases may add on top of the document's own: a rule file reusing a leaf or a
# term list through anchors adds tens; an anchor bomb adds millions.
MAX_ALIAS_NODES = 100_000
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YAMLTooLarge(yaml.YAMLError):  # type: ignore[misc]  # yaml is untyped (above)
    """Raised by :func:`load_bounded` when aliases expand past the limit or recurse."""


class BoundedSafeLoader(_BASE):  # type: ignore[misc, valid-type]
    """A SafeLoader (the C one when available) that checks the composed document first."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        check_expansion(node)
        return self.construct_document(node)


def load_bounded(stream: str | bytes | IO[Any]) -> Any:
    """``yaml.safe_load``, refusing anchor bombs (:class:`YAMLTooLarge`)."""
    loader = BoundedSafeLoader(stream)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def check_expansion(root: yaml.Node, limit: int = MAX_ALIAS_NODES) -> None:
    """Raise YAMLTooLarge when walking ``root`` as a tree would visit ``limit`` more nodes
    than the document has, or would never end (an alias inside its own anchor)."""
    expanded: dict[int, int] = {}  # node id -> size of its expanded subtree
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in expanded:
            continue
        children = _children(node)
        if children_done:
            in_progress.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in children)
            continue
        if key in in_progress:
            raise YAMLTooLarge("an alias refers to the anchor it is inside of (a recursive document)")
        in_progress.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in in_progress:
                raise YAMLTooLarge("an alias refers to the anchor it is inside of (a recursive document)")
            if id(child) not in expanded:
                stack.append((child, False))
    total, distinct = expanded[id(root)], len(expanded)
    if total - distinct > limit:
        raise YAMLTooLarge(
            f"aliases expand the document to {total:,} nodes from {distinct:,} written "
            f"(more than {limit:,} added through aliases: an anchor bomb?)"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
