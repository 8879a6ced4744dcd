"""YAML values that remember their line, so a flow file's error can name it."""

from __future__ import annotations

from typing import Any

import yaml

from lendline.errors import RuleError


class Node:
    """A YAML value with the line (1-based) where it starts."""

    def __init__(self, value: Any, line: int, keylines: dict[str, int] | None = None) -> None:
        self.value = value
        self.line = line
        self.keylines = keylines or {}  # mapping key -> line of the key


def to_nodes(node: yaml.Node) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        keylines: dict[str, int] = {}
        for k, v in node.value:
            # keys are taken as written: YAML 1.1 would read ``on:`` as ``True``
            if not isinstance(k, yaml.ScalarNode):
                raise RuleError("mapping keys must be plain values", line=k.start_mark.line + 1)
            name = str(k.value)
            if name in out:
                raise RuleError(f"duplicate key {name!r}", line=k.start_mark.line + 1)
            out[name] = to_nodes(v)
            keylines[name] = k.start_mark.line + 1
        return Node(out, line, keylines)
    if isinstance(node, yaml.SequenceNode):
        return Node([to_nodes(v) for v in node.value], line)
    return Node(yaml.safe_load(yaml.serialize(node)), line)


def plain(n: Node) -> Any:
    if isinstance(n.value, dict):
        return {k: plain(v) for k, v in n.value.items()}
    if isinstance(n.value, list):
        return [plain(v) for v in n.value]
    return n.value


def need_str(n: Node, what: str) -> str:
    if not isinstance(n.value, str) or not n.value.strip():
        raise RuleError(f"{what} must be a non-empty string", line=n.line)
    return n.value.strip()


def need_map(n: Node, what: str) -> dict[str, Node]:
    if not isinstance(n.value, dict):
        raise RuleError(f"{what} must be a mapping", line=n.line)
    return n.value
