"""The documents the project's own pages send, to be trusted with them (``nkcinema documents
add --examples``): GraphiQL's example tabs (``examples/operations/*.graphql``, the files
``web.graphiql`` opens its tabs on) and the example frontend's (``examples/app.js``).

The frontend has no build step, so its documents are JavaScript template literals, some
interpolating constants (a page size, a shared fragment). They are read here as the browser
builds them: every template literal that starts with an operation, its ``${NAME}`` replaced by
the constant ``NAME`` (a number, a string or a template literal of the same file). Anything
else in a document — an interpolated expression, an escape — is refused with a clear error, so
a change to the frontend that this reading would get wrong fails loudly (a test reads it).
"""

from __future__ import annotations

import re
from pathlib import Path

from web.graphiql import load_examples

_CONSTANT = re.compile(
    r"^const (?P<name>[A-Z_][A-Z0-9_]*) = "
    r'(?:(?P<number>\d+)|"(?P<string>[^"\\]*)"|`(?P<template>[^`]*)`);',
    re.M,
)
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_OPERATION = re.compile(r"\s*(query|mutation|subscription)\b")


class ExampleError(ValueError):
    """The example frontend's documents cannot be read as the browser builds them."""


def _constants(source: str) -> dict[str, str]:
    """The file's top-level constants that documents may interpolate, evaluated in order."""
    constants: dict[str, str] = {}
    for match in _CONSTANT.finditer(source):
        if match["number"] is not None:
            constants[match["name"]] = match["number"]
        elif match["string"] is not None:
            constants[match["name"]] = match["string"]
        else:
            try:
                constants[match["name"]] = _evaluated(match["template"], constants)
            except ExampleError:
                continue  # not one a document uses (else the document's reading fails)
    return constants


def _evaluated(template: str, constants: dict[str, str]) -> str:
    if "\\" in template:
        raise ExampleError(f"an escape in a template literal: {template[:60]!r}")

    def value(match: re.Match[str]) -> str:
        name = match[1].strip()
        if name not in constants:
            raise ExampleError(f"${{{name}}} is not a constant of the file: {template[:60]!r}")
        return constants[name]

    return _INTERPOLATION.sub(value, template)


def _templates(source: str) -> list[str]:
    """The text of every template literal of a script, comments and strings skipped (enough
    of JavaScript's lexical rules for the frontend: no regular expression there holds a
    quote, a backtick or two slashes)."""
    found, at, end = [], 0, len(source)
    while at < end:
        char = source[at]
        if source.startswith("//", at):
            at = source.find("\n", at)
            at = end if at < 0 else at
        elif source.startswith("/*", at):
            at = source.find("*/", at)
            at = end if at < 0 else at + 2
        elif char in "\"'":
            at += 1
            while at < end and source[at] != char:
                at += 2 if source[at] == "\\" else 1
            at += 1
        elif char == "`":
            close = source.find("`", at + 1)
            if close < 0:
                raise ExampleError("a template literal that never ends")
            found.append(source[at + 1 : close])
            at = close + 1
        else:
            at += 1
    return found


def frontend_documents(app_js: Path) -> list[str]:
    """The documents ``app_js`` sends, in file order, exactly as it sends them."""
    source = app_js.read_text("utf-8")
    constants = _constants(source)
    return [
        _evaluated(template, constants)
        for template in _templates(source)
        if _OPERATION.match(template)
    ]


def example_documents(examples: Path) -> list[tuple[str, str]]:
    """(where, document) for every document of GraphiQL's example tabs and of the example
    frontend, ``examples`` being the examples directory."""
    found = [
        (f"examples/operations/{example.name}.graphql", example.query)
        for example in load_examples(examples / "operations")
    ]
    found += [
        (f"examples/app.js, document {index}", document)
        for index, document in enumerate(frontend_documents(examples / "app.js"), start=1)
    ]
    return found
