"""A tiny document model rendered twice: as Markdown and as one self-contained HTML page.

The report and the comparison build a list of blocks once; `to_markdown` and `to_html` render them. HTML
embeds every image as a base64 data URI, so `report.html` can be mailed or opened from anywhere.
Inline text supports `code` spans and **bold**, the only Markdown the reports use.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


@dataclass(frozen=True)
class CodeGrid:
    """Code shown side by side: one column per (title, source)."""

    columns: list[tuple[str, str]]


Block = Heading | Paragraph | Bullets | Table | Image | CodeGrid

_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*")


def to_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown with image links relative to `base` (the directory the .md file is written to)."""
    return "\n\n".join(_markdown(block, base) for block in blocks) + "\n"


def _markdown(block: Block, base: Path) -> str:
    match block:
        case Heading(level, text):
            return f"{'#' * level} {text}"
        case Paragraph(text):
            return text
        case Bullets(items):
            return "\n".join(f"- {item}" for item in items)
        case Table(frame):
            return _markdown_table(frame)
        case Image(path, alt):
            return f"![{alt}]({path.relative_to(base).as_posix()})"
        case CodeGrid(columns):
            # GitHub renders an HTML table with fenced code in its cells: the only way to get columns.
            cells = "".join(f"<td>\n\n**{title}**\n\n```python\n{code}\n```\n\n</td>" for title, code in columns)
            return f"<table><tr valign='top'>{cells}</tr></table>"
    raise TypeError(f"not a block: {block!r}")


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |"]
    lines.append("| " + " | ".join("---:" if _numeric(frame[c]) else "---" for c in frame.columns) + " |")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _inline(text: str) -> str:
    """Escape text and turn `code` and **bold** into HTML."""
    parts, last = [], 0
    for match in _INLINE.finditer(text):
        parts.append(html.escape(text[last : match.start()]))
        code, bold = match.groups()
        parts.append(f"<code>{html.escape(code)}</code>" if code else f"<strong>{html.escape(bold)}</strong>")
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def to_html(blocks: list[Block], title: str) -> str:
    """One HTML page, images inlined."""
    body = "\n".join(_html(block) for block in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _html(block: Block) -> str:
    match block:
        case Heading(level, text):
            anchor = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
            return f'<h{level} id="{anchor}">{_inline(text)}</h{level}>'
        case Paragraph(text):
            return f"<p>{_inline(text)}</p>"
        case Bullets(items):
            return "<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>"
        case Table(frame):
            return _html_table(frame)
        case Image(path, alt):
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"></figure>'
        case CodeGrid(columns):
            cells = "".join(
                f"<div><h5>{html.escape(title)}</h5><pre><code>{html.escape(code)}</code></pre></div>"
                for title, code in columns
            )
            return f'<div class="code-grid" style="--columns: {len(columns)}">{cells}</div>'
    raise TypeError(f"not a block: {block!r}")


def _html_table(frame: pd.DataFrame) -> str:
    numeric = [_numeric(frame[c]) for c in frame.columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>"
        + "".join(f'<td class="{"num" if n else ""}">{_inline(str(v))}</td>' for v, n in zip(row, numeric, strict=True))
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1400px;
       padding: 0 1.5rem; color: #1b1b1b; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #e5e5e5; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; font-size: 90%; }
.table { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: 85%; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.code-grid { display: grid; grid-template-columns: repeat(var(--columns), minmax(0, 1fr)); gap: .6rem; }
.code-grid h5 { margin: .2rem 0; }
.code-grid pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: .5rem; margin: 0; font-size: 75%;
                 white-space: pre-wrap; overflow-wrap: anywhere; }
"""
