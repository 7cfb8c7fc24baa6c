"""Parses one mapping file keeping the line of every key, so each problem can name its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Keys and list indexes from the top of a file down to one value, e.g. ("segments", 1, "when").
KeyPath = tuple[str | int, ...]


@dataclass
class Source:
    """One parsed file: its data and the line of every mapping key and sequence item."""

    name: str
    data: Any = None
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int:
        """The line of the deepest part of path that exists in the file (a missing key's parent)."""
        return next(
            self.lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in self.lines
        )

    def where(self, path: KeyPath) -> str:
        """`file:line: key.path`, the prefix of every problem in this file."""
        return f"{self.name}:{self.line(path)}: {_format_path(path)}"

    def problem(self, path: KeyPath, message: str) -> str:
        """One error line: where, then what is wrong."""
        return f"{self.where(path)}: {message}"


def _format_path(path: KeyPath) -> str:
    """`segments[1].when[0].op`, the way an admin reads the file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse(file: Path, name: str, errors: list[str]) -> Source | None:
    """Parse one YAML file keeping line numbers; syntax problems go to errors with their line."""
    if not file.is_file():
        errors.append(f"{name}:1: (file): the file is missing")
        return None
    text = file.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        errors.append(_syntax_problem(name, exc))
        return None
    source = Source(name, data, {(): 1})
    if node is not None:
        _index(node, (), source, errors)
    return source


def _syntax_problem(name: str, exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's complaint at the line it stopped, plus where the unfinished construct began."""
    mark = exc.problem_mark or exc.context_mark
    problem = f"{name}:{mark.line + 1 if mark else 1}: (syntax): {exc.problem}"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    return problem


def _index(node: yaml.Node, path: KeyPath, source: Source, errors: list[str]) -> None:
    """Record the line of each key and item below node; a repeated key is an error in YAML terms."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            if child in source.lines:
                first = source.lines[child]
                errors.append(source.problem(child, f"duplicate key (first at line {first})"))
            source.lines[child] = key_node.start_mark.line + 1
            _index(value_node, child, source, errors)
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            source.lines[(*path, number)] = item.start_mark.line + 1
            _index(item, (*path, number), source, errors)
