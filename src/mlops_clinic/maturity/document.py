"""A tiny document model rendered to Markdown and to self-contained HTML (reports of one
participant and of a cohort share it).

Blocks: ("h", level, text) ("p", text) ("table", headers, rows) ("ol", items) ("checklist", items)
("image", file name, alt text). Text is plain: the renderers escape it.
"""

from __future__ import annotations

import base64
import html
import io


def figure_png(fig, dpi: int = 110, colors: int | None = 64) -> bytes:
    """The figure as PNG bytes, and the figure closed. No software/date metadata, so the same chart
    gives the same bytes; reduced to a palette of `colors` (a chart has few), which makes the PNG
    about four times smaller in a committed notebook or an e-mailed report."""
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    if colors is None:
        return buffer.getvalue()
    small = io.BytesIO()
    Image.open(buffer).convert("RGB").quantize(colors=colors).save(small, format="PNG", optimize=True)
    return small.getvalue()


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


HTML_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #111827; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d1d5db; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
ul.checklist { list-style: none; padding-left: 1em; }
ul.checklist li::before { content: "\\2610\\00a0"; }
img { max-width: 100%; }
"""


def to_html(blocks: list[tuple], *, images: dict[str, bytes], title: str) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
           f"<style>{HTML_STYLE}</style></head><body>"]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
        elif kind == "p":
            out.append(f"<p>{e(block[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "ol":
            out.append("<ol>" + "".join(f"<li>{e(item)}</li>" for item in block[1]) + "</ol>")
        elif kind == "checklist":
            out.append("<ul class='checklist'>" + "".join(f"<li>{e(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "image":
            data = base64.b64encode(images[block[1]]).decode("ascii")
            out.append(f"<img alt='{e(block[2])}' src='data:image/png;base64,{data}'>")
    out.append("</body></html>\n")
    return "\n".join(out)
