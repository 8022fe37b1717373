"""One writer for the kit's HTML reports (maturity profile, cohort report, batch summary, grades):
a self-contained page with one style, in which every text is escaped unless it is markup made here.

    table_page("Grades", "3 participant(s) ...", head, rows)
    page("MLOps maturity profile", [heading(1, "..."), paragraph("..."), image(png, "Radar chart")])

A table cell is a text, markup made by these functions (a link, code, a line break), or a `Cell`
that also carries a style (a status colour) or is a number (right-aligned).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from dataclasses import dataclass

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #111827; }
body.wide { max-width: none; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #d1d5db; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
ul.checklist { list-style: none; padding-left: 1em; }
ul.checklist li::before { content: "\\2610\\00a0"; }
img { max-width: 100%; }
"""


class Html(str):
    """Markup made by this module: written as it is, where any other text is escaped."""


BREAK = Html("<br>")


@dataclass(frozen=True)
class Cell:
    content: object
    style: str | None = None
    number: bool = False


def escape(content: object) -> Html:
    return content if isinstance(content, Html) else Html(html.escape(str(content)))


def join(*parts: object) -> Html:
    """The parts one after the other, each text escaped."""
    return Html("".join(escape(part) for part in parts))


def element(tag: str, content: object = "", **attributes: object) -> Html:
    """`<tag attribute='value'>content</tag>`; `class_` stands for `class`, None leaves an attribute out."""
    written = "".join(f" {name.rstrip('_')}='{html.escape(str(value))}'"
                      for name, value in attributes.items() if value is not None)
    return Html(f"<{tag}{written}>{escape(content)}</{tag}>")


def heading(level: int, text: object) -> Html:
    return element(f"h{level}", text)


def paragraph(text: object) -> Html:
    return element("p", text)


def item_list(items: Iterable[object], *, ordered: bool = False, class_: str | None = None) -> Html:
    return element("ol" if ordered else "ul", join(*(element("li", item) for item in items)), class_=class_)


def image(png: bytes, alt: str) -> Html:
    """The PNG inside the page (a data URL), so the report is one file that fetches nothing."""
    data = base64.b64encode(png).decode("ascii")
    return Html(f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>")


def table(head: Iterable[object], rows: Iterable[Iterable[object]]) -> Html:
    header = element("tr", join(*(element("th", name) for name in head)))
    body = Html("\n".join(element("tr", join(*map(_cell, row))) for row in rows))
    return element("table", join(element("thead", header), Html("\n"), element("tbody", body)))


def _cell(cell: object) -> Html:
    cell = cell if isinstance(cell, Cell) else Cell(cell)
    return element("td", cell.content, style=cell.style, class_="n" if cell.number else None)


def page(title: str, parts: Iterable[Html], *, wide: bool = False) -> str:
    """A whole page; `wide` lets a table of many columns use the window's width."""
    body = "<body class='wide'>" if wide else "<body>"
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head>{body}\n" + "\n".join(parts) + "\n</body></html>\n")


def table_page(title: str, summary: str, head: Iterable[object], rows: Iterable[Iterable[object]]) -> str:
    """A report that is one table: its title, a line that sums it up, and the table."""
    return page(title, [heading(1, title), paragraph(summary), table(head, rows)], wide=True)
