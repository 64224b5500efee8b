"""HTML views of the Markdown tables, shown inline by Snakemake's report (it offers CSV and
Markdown only as downloads).

The tables' Markdown is ours (written by :mod:`mixopt.report`), so a small renderer suffices:
``#`` headings, paragraphs, ``-`` bullet lists, pipe tables (``\\|`` is a literal bar), inline
``code`` and ``**bold**``. Everything else is escaped and shown as text.
"""

from __future__ import annotations

import html
import re

BULLET = re.compile(r"\s*[-*]\s+")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; max-width: 110em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
tr:nth-child(even) td { background: #f8f8f8; }
code { background: #f2f2f2; padding: 0 0.2em; }
"""


def _inline(text: str) -> str:
    """Escape, then ``code`` and **bold**."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _cells(line: str) -> list[str]:
    """Cells of a pipe-table row; ``\\|`` stays a literal bar."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _is_rule(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()))


def markdown_to_html(text: str, title: str) -> str:
    """A self-contained HTML page of ``text`` (see the module doc for what is rendered)."""
    lines = text.splitlines()
    body: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif m := re.match(r"(#{1,6})\s+(.*)", line):
            level = len(m.group(1))
            body.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
        elif line.lstrip().startswith("|") and i + 1 < len(lines) and _is_rule(lines[i + 1]):
            head = "".join(f"<th>{_inline(c)}</th>" for c in _cells(line))
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(lines[i]))
                            + "</tr>")
                i += 1
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
                        "</tbody></table>")
        elif BULLET.match(line):
            items = []
            while i < len(lines) and (m := BULLET.match(lines[i])):
                items.append(f"<li>{_inline(lines[i][m.end():])}</li>")
                i += 1
            body.append(f"<ul>{''.join(items)}</ul>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"#{1,6}\s|\s*[-*]\s+|\|",
                                                                        lines[i]):
                para.append(lines[i].strip())
                i += 1
            if not para:   # a lone pipe line without a rule below: text
                para.append(lines[i].strip())
                i += 1
            body.append(f"<p>{_inline(' '.join(para))}</p>")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
