"""A tiny document model rendered to Markdown and to self-contained HTML (reports of one
participant and of a cohort share it; the HTML is the kit's one page writer, html_page).

Blocks: ("h", level, text) ("p", text) ("table", headers, rows) ("ol", items) ("checklist", items)
("image", file name, alt text). Text is plain: the renderers escape it.
"""

from __future__ import annotations

from mlops_clinic import html_page


def to_markdown(blocks: list[tuple]) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append("#" * block[1] + " " + block[2])
        elif kind == "p":
            out.append(block[1])
        elif kind == "table":
            cell = lambda value: str(value).replace("|", "\\|")  # noqa: E731
            out.append("\n".join(["| " + " | ".join(map(cell, block[1])) + " |",
                                  "|" + "---|" * len(block[1])]
                                 + ["| " + " | ".join(map(cell, row)) + " |" for row in block[2]]))
        elif kind == "ol":
            out.append("\n".join(f"{i}. {item}" for i, item in enumerate(block[1], 1)))
        elif kind == "checklist":
            out.append("\n".join(f"- [ ] {item}" for item in block[1]))
        elif kind == "image":
            out.append(f"![{block[2]}]({block[1]})")
    return "\n\n".join(out) + "\n"


def to_html(blocks: list[tuple], *, images: dict[str, bytes], title: str) -> str:
    return html_page.page(title, [_html_block(block, images) for block in blocks])


def _html_block(block: tuple, images: dict[str, bytes]) -> html_page.Html:
    kind = block[0]
    if kind == "h":
        return html_page.heading(block[1], block[2])
    if kind == "p":
        return html_page.paragraph(block[1])
    if kind == "table":
        return html_page.table(block[1], block[2])
    if kind == "ol":
        return html_page.item_list(block[1], ordered=True)
    if kind == "checklist":
        return html_page.item_list(block[1], class_="checklist")
    if kind == "image":
        return html_page.image(images[block[1]], block[2])
    raise ValueError(f"no such block: {kind!r}")
