"""reStructuredText to prose: the cleaning behind ``load_corpus("python-docs")``.

``rst_sections(source)`` splits a page at its top-level sections and keeps the prose paragraphs
of each: descriptions inside ``.. function::``, ``.. class::``, ``.. note::`` and similar
directives are kept (their signature lines dropped); titles, literal blocks, code, doctests,
tables, grammar, non-prose directives, options and comments are dropped. ``clean_inline``
reduces inline markup to its text (``:func:`len``` -> ``len``). The module docstring of
:mod:`.python_docs` lists the rules in full.
"""
from __future__ import annotations

import re

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
    lines = source.replace("\t", "    ").split("\n")
    sections, title, paragraphs, current = [], "", [], []
    levels: list[str] = []            # adornment characters in order of first use
    skip_deeper_than = None           # inside a dropped block: skip lines indented more than this
    literal_after = False             # the previous paragraph ended with "::"
    in_table = False

    def flush():
        nonlocal current, literal_after
        if current:
            text = " ".join(current).rstrip()
            literal_after = text.endswith("::")                 # "Example::" -> "Example:"
            text = text[:-3] if text.endswith(" ::") else text[:-1] if literal_after else text
            text = _BULLET.sub("", text)                       # a list item's marker
            text = clean_inline(text)
            words = text.split()
            letters = sum(ch.isalpha() or ch == " " for ch in text)
            if len(words) >= 4 and letters >= 0.75 * len(text):
                paragraphs.append(text)
        current = []

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if skip_deeper_than is not None:
            if not stripped or _indent(line) > skip_deeper_than:
                i += 1
                continue
            skip_deeper_than = None
        if not stripped:
            flush()
            i += 1
            continue
        if literal_after and not current:      # the literal block after "::": indented lines
            literal_after = False
            if _indent(line) > 0 or stripped.startswith(">>>"):
                skip_deeper_than = _indent(line) - 1 if _indent(line) else 0
                if _indent(line) == 0:                     # unindented doctest: skip to blank line
                    while i < len(lines) and lines[i].strip():
                        i += 1
                    skip_deeper_than = None
                continue
        if _SIMPLE_TABLE_RULE.match(line) or stripped.startswith(("+-", "+=")):
            flush()
            if _SIMPLE_TABLE_RULE.match(line):             # a simple table ends at a rule + blank line
                in_table = not in_table or bool(nxt.strip())
            i += 1
            continue
        if stripped.startswith(">>>"):                    # a doctest and its output
            flush()
            while i < len(lines) and lines[i].strip():
                i += 1
            continue
        if in_table or stripped.startswith("|"):
            i += 1
            continue
        if _ADORNMENT.match(nxt) and not _ADORNMENT.match(line) and len(nxt.strip()) >= len(stripped) - 2:
            flush()                                        # a section title
            char = nxt.strip()[0] + ("o" if i > 0 and _ADORNMENT.match(lines[i - 1]) else "")
            if char not in levels:
                levels.append(char)
            if len(levels) >= 2 and char == levels[1]:     # a top-level section starts
                sections.append((title, paragraphs))
                title, paragraphs = clean_inline(stripped), []
            i += 2
            continue
        if _ADORNMENT.match(line):                         # an overline or a transition
            flush()
            i += 1
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            flush()
            name = directive.group(2)
            i += 1
            if name in _SIGNATURE_DIRECTIVES:              # skip signature lines and options
                while i < len(lines) and lines[i].strip():
                    i += 1
            elif name in _PROSE_DIRECTIVES:                # keep the body, skip its options
                while i < len(lines) and _FIELD_OPTION.match(lines[i]) and _indent(lines[i]) > _indent(line):
                    i += 1
            else:
                skip_deeper_than = _indent(line)
            continue
        if _COMMENT_OR_TARGET.match(line):                 # a comment or a link target
            flush()
            skip_deeper_than = _indent(line)
            i += 1
            continue
        if _FIELD_OPTION.match(line) and not current:
            line = re.sub(r"^\s*:[\w -]+:\s*", "", line)   # ":param x: text" -> "text"
            if not line.strip():
                i += 1
                continue
        if current and _BULLET.match(line):               # each list item is its own paragraph
            flush()
        current.append(line.strip())
        i += 1
    flush()
    sections.append((title, paragraphs))
    return sections
