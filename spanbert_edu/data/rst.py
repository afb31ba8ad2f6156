"""reStructuredText to prose: the cleaning behind ``load_corpus("python-docs")``.

``rst_sections(source)`` splits a page at its top-level sections and keeps the prose paragraphs
of each: descriptions inside ``.. function::``, ``.. class::``, ``.. note::`` and similar
directives are kept (their signature lines dropped); titles, literal blocks, code, doctests,
tables, grammar, non-prose directives, options and comments are dropped. ``clean_inline``
reduces inline markup to its text (``:func:`len``` -> ``len``). The module docstring of
:mod:`.python_docs` lists the rules in full; which cleaned paragraphs count as prose is
:func:`.documents.is_prose`, shared with the bundled corpus.

``rst_sections`` reads a page line by line; ``_PageReader`` holds the state of that pass and has
one method per kind of block (directive, table, title, literal block, ...), tried in a fixed order.
"""
from __future__ import annotations

import re

from .documents import is_prose

# Directives whose body is prose worth keeping; any other directive's body is dropped.
# Signature directives: the lines up to the first blank line are signatures and options.
_SIGNATURE_DIRECTIVES = {
    "function", "method", "class", "attribute", "data", "exception", "decorator", "decoratormethod",
    "classmethod", "staticmethod", "describe", "cmdoption", "option", "envvar", "coroutinefunction",
    "coroutinemethod", "abstractmethod", "pdbcommand", "opcode", "2to3fixer", "object", "type",
    "macro", "member", "var", "enum", "enumerator", "struct", "monitoring-event",
}
_PROSE_DIRECTIVES = {
    "note", "warning", "seealso", "important", "tip", "hint", "caution", "attention", "danger",
    "versionadded", "versionchanged", "deprecated", "deprecated-removed", "impl-detail",
    "admonition", "topic", "sidebar", "glossary", "availability",
}
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+(?:[\w-]+:)?([\w-]+)::(.*)$")
_COMMENT_OR_TARGET = re.compile(r"^(\s*)\.\.(\s|$)")
_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_SIMPLE_TABLE_RULE = re.compile(r"^\s*=+( +=+)+\s*$")
_FIELD_OPTION = re.compile(r"^\s*:[\w -]+:(\s|$)")
_ROLE = re.compile(r":(?:[\w.+-]+:)?([\w.+-]+):`([^`]*)`")
_LINK = re.compile(r"`([^`<]*?)\s*<[^`>]*>`__?")
_REF = re.compile(r"`([^`]+)`__?")
_LITERAL = re.compile(r"``([^`]+)``")
_BULLET = re.compile(r"^\s*([*\-+•]|#\.|\d+\.|\(\w\))\s+")
_FOOTNOTE = re.compile(r"\s*\[(#[\w-]*|\d+|\*)\]_")


def _role_text(match) -> str:
    role, text = match.group(1), match.group(2)
    if role in ("rfc", "pep"):                 # :pep:`8` -> PEP 8, as Sphinx shows it
        return f"{role.upper()} {text.split('#')[0]}"
    if "<" in text and text.endswith(">"):     # :ref:`the title <target>` -> the title
        return text[:text.index("<")].strip()
    text = text.lstrip("!")
    return text[1:].rsplit(".", 1)[-1] if text.startswith("~") else text


def clean_inline(text: str) -> str:
    """reST inline markup -> its plain text."""
    text = _FOOTNOTE.sub("", text)
    text = _ROLE.sub(_role_text, text)
    text = _LINK.sub(r"\1", text)
    text = _LITERAL.sub(r"\1", text)
    text = _REF.sub(r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*", r"\1", text)
    text = re.sub(r"\|([\w -]+)\|", r"\1", text)          # |substitution|
    text = re.sub(r"\\(.)", r"\1", text)                    # escaped characters
    return " ".join(text.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def rst_sections(source: str) -> list[tuple[str, list[str]]]:
    """Split a page into ``(title, prose paragraphs)`` at its top-level sections (the heading
    level right below the page title); the text before the first of them is titled ''."""
    page = _PageReader(source)
    while not page.done():
        line = page.line()
        # Each kind of block, in this order, may claim the line (and the lines after it);
        # a line that none claims is a line of the current paragraph.
        claimed = (page.skipped(line) or page.blank(line) or page.literal_block(line)
                   or page.doctest(line) or page.table(line) or page.title(line)
                   or page.adornment(line) or page.directive(line) or page.comment(line))
        if not claimed:
            page.paragraph_line(line)
    page.close()
    return page.sections


def _paragraph_text(lines: list[str]) -> tuple[str, bool]:
    """The text of a paragraph's lines, and whether a literal block follows (it ended "::")."""
    text = " ".join(lines).rstrip()
    literal_follows = text.endswith("::")                   # "Example::" -> "Example:"
    text = text[:-3] if text.endswith(" ::") else text[:-1] if literal_follows else text
    text = _BULLET.sub("", text)                            # a list item's marker
    return clean_inline(text), literal_follows


class _PageReader:
    """One pass over a page's lines. Each block method looks at the line at ``i`` and either
    claims it (moves ``i`` past what it read, returns True) or leaves it (returns False)."""

    def __init__(self, source: str):
        self.lines = source.replace("\t", "    ").split("\n")
        self.i = 0
        self.sections: list[tuple[str, list[str]]] = []
        self.heading, self.paragraphs = "", []  # the section being read
        self.current: list[str] = []             # the lines of the paragraph being read
        self.levels: list[str] = []              # adornment characters in order of first use
        self.skip_deeper_than = None             # inside a dropped block: skip lines indented more
        self.literal_after = False               # the previous paragraph ended with "::"
        self.in_table = False

    def done(self) -> bool:
        return self.i >= len(self.lines)

    def line(self) -> str:
        return self.lines[self.i]

    def _next_line(self) -> str:
        return self.lines[self.i + 1] if self.i + 1 < len(self.lines) else ""

    def _skip_to_blank_line(self) -> None:
        while self.i < len(self.lines) and self.lines[self.i].strip():
            self.i += 1

    def _flush(self) -> None:
        """End the current paragraph: keep it if it reads as prose."""
        if self.current:
            text, self.literal_after = _paragraph_text(self.current)
            if is_prose(text):
                self.paragraphs.append(text)
        self.current = []

    def close(self) -> None:
        self._flush()
        self.sections.append((self.heading, self.paragraphs))

    def skipped(self, line: str) -> bool:
        """The rest of a dropped block: blank lines and lines indented deeper than its start."""
        if self.skip_deeper_than is None:
            return False
        if not line.strip() or _indent(line) > self.skip_deeper_than:
            self.i += 1
            return True
        self.skip_deeper_than = None
        return False

    def blank(self, line: str) -> bool:
        if line.strip():
            return False
        self._flush()
        self.i += 1
        return True

    def literal_block(self, line: str) -> bool:
        """The literal block after "::": indented lines, or an unindented doctest."""
        if not self.literal_after or self.current:
            return False
        self.literal_after = False
        if _indent(line) > 0:
            self.skip_deeper_than = _indent(line) - 1
            return True
        if line.strip().startswith(">>>"):
            self._skip_to_blank_line()
            return True
        return False

    def doctest(self, line: str) -> bool:
        """A doctest and its output, up to the next blank line."""
        if not line.strip().startswith(">>>"):
            return False
        self._flush()
        self._skip_to_blank_line()
        return True

    def table(self, line: str) -> bool:
        """A grid or simple table: its rules, and every row between them."""
        simple_rule = _SIMPLE_TABLE_RULE.match(line)
        if simple_rule or line.strip().startswith(("+-", "+=")):
            self._flush()
            if simple_rule:                         # a simple table ends at a rule + blank line
                self.in_table = not self.in_table or bool(self._next_line().strip())
            self.i += 1
            return True
        if self.in_table or line.strip().startswith("|"):
            self.i += 1
            return True
        return False

    def title(self, line: str) -> bool:
        """A section title and its underline; a title at the second level starts a section."""
        stripped, underline = line.strip(), self._next_line()
        if not (_ADORNMENT.match(underline) and not _ADORNMENT.match(line)
                and len(underline.strip()) >= len(stripped) - 2):
            return False
        self._flush()
        overlined = self.i > 0 and _ADORNMENT.match(self.lines[self.i - 1])
        char = underline.strip()[0] + ("o" if overlined else "")  # "=" over and under != "=" under
        if char not in self.levels:
            self.levels.append(char)
        if len(self.levels) >= 2 and char == self.levels[1]:    # a top-level section starts
            self.sections.append((self.heading, self.paragraphs))
            self.heading, self.paragraphs = clean_inline(stripped), []
        self.i += 2
        return True

    def adornment(self, line: str) -> bool:
        """An overline (its title follows) or a transition."""
        if not _ADORNMENT.match(line):
            return False
        self._flush()
        self.i += 1
        return True

    def directive(self, line: str) -> bool:
        """``.. name::``: keep the body of a prose directive, drop any other's."""
        directive = _DIRECTIVE.match(line)
        if not directive:
            return False
        self._flush()
        name = directive.group(2)
        self.i += 1
        if name in _SIGNATURE_DIRECTIVES:          # skip signature lines and options
            self._skip_to_blank_line()
        elif name in _PROSE_DIRECTIVES:            # keep the body, skip its options
            while (not self.done() and _FIELD_OPTION.match(self.line())
                   and _indent(self.line()) > _indent(line)):
                self.i += 1
        else:
            self.skip_deeper_than = _indent(line)
        return True

    def comment(self, line: str) -> bool:
        """A comment or a link target, with its indented continuation."""
        if not _COMMENT_OR_TARGET.match(line):
            return False
        self._flush()
        self.skip_deeper_than = _indent(line)
        self.i += 1
        return True

    def paragraph_line(self, line: str) -> None:
        self.i += 1
        if _FIELD_OPTION.match(line) and not self.current:
            line = re.sub(r"^\s*:[\w -]+:\s*", "", line)   # ":param x: text" -> "text"
            if not line.strip():
                return
        if self.current and _BULLET.match(line):   # each list item is its own paragraph
            self._flush()
        self.current.append(line.strip())
