"""Reading a rulebook's YAML tree with line numbers and key paths, so that every problem
says where it is: ``rules.MEMBER_CAP.params.max`` on line 167, not "a bad value".

PyYAML's plain ``safe_load`` forgets where each value came from; an officer who wrote
the file needs the line (and, in a long list of rules, which rule) to fix it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import Problem

__all__ = ["Reader", "node_at"]


class Reader:
    """Turns a composed YAML tree into Python values, remembering line numbers
    so that a malformed rulebook gets an error naming the key path and its line
    (``rules.MEMBER_CAP.params.max``, ``rules[3].id``, ``aliases[2]``)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.failed: set[str] = set()  # the paths whose values could not be read (already reported)
        self._scalars = yaml.SafeLoader("")  # one constructor for every scalar (a loader is costly to make)

    def problem(self, node: yaml.Node | None, path: str, value: object, expected: str) -> None:
        """Record one problem on ``node``'s line: problems are collected, so that one run lists them all."""
        line = node.start_mark.line + 1 if node is not None else None
        shown = None if value is None else str(value)
        self.problems.append(Problem(self.source, line, path, shown, expected))

    def value(self, node: yaml.Node, path: str = "value") -> Any:
        """The Python value of ``node``; a scalar YAML cannot construct (2025-02-30 is tagged a date,
        then fails) is reported at ``path`` and read as None, rather than raised."""
        if isinstance(node, yaml.MappingNode):
            pairs = [(self.value(k, path), v) for k, v in node.value]
            return {k: self.value(v, f"{path}.{k}") for k, v in pairs}
        if isinstance(node, yaml.SequenceNode):
            return [self.value(v, f"{path}[{i}]") for i, v in enumerate(node.value)]
        try:
            return self._scalars.construct_object(node)  # type: ignore[no-untyped-call]
        except (ValueError, TypeError, yaml.YAMLError) as exc:  # 2025-02-30 reads as a date, then fails
            self.failed.add(path)
            what = "a date that exists, as YYYY-MM-DD" if node.tag == _TIMESTAMP else "a valid value"
            self.problem(node, path, getattr(node, "value", None), f"{what} ({exc})")
            return None

    def fields(self, node: yaml.Node, where: str) -> dict[str, yaml.Node]:
        """A mapping's keys with their (unconstructed) nodes, which keep the lines of the values."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, where, None, "expected a mapping of keys to values")
            return {}
        out: dict[str, yaml.Node] = {}
        for k, v in node.value:
            out[str(self.value(k, where))] = v
        return out

    def text(self, fields: dict[str, yaml.Node], key: str, parent: yaml.Node, *,
             required: bool = True, at: str = "") -> str | None:
        """The text at ``key`` of ``fields`` (below path ``at``), reporting a missing, empty or
        non-text one (a missing key on ``parent``'s line)."""
        node = fields.get(key)
        path = f"{at}.{key}" if at else key
        if node is None:
            if required:
                self.problem(parent, path, None, f"missing required key '{key}'")
            return None
        value = self.value(node, path)
        if value is None:
            if required:
                self.problem(node, path, None, f"'{key}' must not be empty")
            return None
        if isinstance(value, (dict, list)):
            self.problem(node, path, value, f"'{key}' must be text")
            return None
        return str(value)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PATH_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def node_at(node: yaml.Node, path: str) -> yaml.Node | None:
    """The node at ``path`` below ``node`` (``types[2]``, ``groups.other[0]``), or None."""
    for m in _PATH_STEP.finditer(path):
        key, index = m.groups()
        if key is not None and isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if str(getattr(k, "value", "")) == key]
        elif index is not None and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            found = [node.value[int(index)]]
        else:
            return None
        if not found:
            return None
        node = found[0]
    return node
