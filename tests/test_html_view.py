"""HTML views of the Markdown tables (Snakemake's report shows them inline)."""

from __future__ import annotations

from mixopt.report.html_view import markdown_to_html

MD = """# Table 2: local vs global

Profile `quick`. Each cell: **ours**, then
the paper's <value>.

| Data set | sup\\|pi\\| | EM |
|---|---|---|
| wine | 0.005 (0.005) | 1366.18 |
| brca | 0.167 | — |

- one note
- another
"""


def test_tables_headings_lists_and_escaping():
    out = markdown_to_html(MD, "flaherty_table2")
    assert out.startswith("<!DOCTYPE html>") and "<title>flaherty_table2</title>" in out
    assert "<h1>Table 2: local vs global</h1>" in out
    assert "<p>Profile <code>quick</code>. Each cell: <strong>ours</strong>, then the paper's " \
           "&lt;value&gt;.</p>" in out
    assert "<th>sup|pi|</th>" in out   # an escaped bar is a bar, not a column
    assert out.count("<tr>") == 3 and "<td>1366.18</td>" in out and "<td>—</td>" in out
    assert "<ul><li>one note</li><li>another</li></ul>" in out


def test_a_pipe_line_without_a_rule_is_text():
    out = markdown_to_html("| not a table\n", "t")
    assert "<table>" not in out and "<p>| not a table</p>" in out
