"""Write the kit's website from the pages Jupyter Book (MyST) has parsed.

MyST parses the notebooks and Markdown pages, resolves their links and builds a search index, then
serves all of it as JSON on a local content server (CONTENT_CDN) and runs this script, which writes
into BUILD_DIRECTORY one plain HTML page per page, the images they show, the notebooks to download,
a search page with its index, and the style sheet. No JavaScript framework and nothing fetched from
the web: the pages are readable without scripts, with a keyboard and with a screen reader.

Every page links to Binder through `mlops_clinic.paths.binder_url`, so a fork that changes the
repository in pyproject.toml gets its own links. Links to files of the repository that are not
pages of the site (the kit's code, for instance) go to the file on GitHub.
"""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
import shutil
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from mlops_clinic.paths import REPO_ROOT, binder_url, repository

TEMPLATE_DIR = Path(__file__).resolve().parent
SITE_NAME = "MLOps Clinic"
STATIC = "_static"  # the site's own files: style sheet, scripts, images, downloads
CODE_STYLE = "default"  # WCAG AA contrast on its own background (site.css keeps it)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The order in which an output's representations are preferred, as JupyterLab shows them.
# An output's link into the workspace, as the build masks it (output_masks.cfg: <workspace>).
WORKSPACE_LINK = re.compile(r'<a href="(?:<|&lt;)workspace(?:>|&gt;)[^"]*"[^>]*>(?P<text>.*?)</a>', re.S)
MIME_ORDER = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/plain")
WIDGET = "application/vnd.jupyter.widget-view+json"


# --- MyST's content server ------------------------------------------------------------------------------
def fetch(path: str) -> bytes:
    with urllib.request.urlopen(os.environ["CONTENT_CDN"].rstrip("/") + path) as response:
        return response.read()


def fetch_json(path: str):
    return json.loads(fetch(path))


# --- the pages of the site ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    slug: str    # MyST's name of the page: "notebooks.serving"; the home page is the project's index
    url: str     # MyST's URL of the page: "/notebooks/serving", "/" for the home page
    title: str
    source: str  # the file it comes from, relative to the repository: "notebooks/03_serving.ipynb"
    content: dict = field(repr=False, compare=False)

    @property
    def file(self) -> str:
        """Where the page is written in the site: "notebooks/serving.html"."""
        return "index.html" if self.url == "/" else self.url.strip("/") + ".html"

    @property
    def is_notebook(self) -> bool:
        return self.source.endswith(".ipynb")

    @property
    def is_home(self) -> bool:
        return self.url == "/"


@dataclass
class Site:
    pages: list[Page]
    nav: list[dict]  # MyST's page list: a group has a title and no slug; pages carry a level
    search_records: list[dict]
    repository: str

    def page_at(self, url: str) -> Page | None:
        path = url.split("#", 1)[0].rstrip("/") or "/"
        return next((p for p in self.pages if p.url == path), None)

    def github(self, path: str) -> str:
        """The repository file or folder on GitHub (for links to what the site does not publish)."""
        kind = "tree" if (REPO_ROOT / path).is_dir() else "blob"
        return f"https://github.com/{self.repository}/{kind}/HEAD/{path}"


def read_site() -> Site:
    config = fetch_json("/config.json")
    project = config["projects"][0]
    entries = [(project["index"], "/")] + [(p["slug"], "/" + p["slug"].replace(".", "/"))
                                           for p in project["pages"] if p.get("slug")]
    pages = []
    for slug, url in entries:
        content = fetch_json(f"/content/{slug}.json")
        pages.append(Page(slug, url, content["frontmatter"].get("title", SITE_NAME),
                          content["location"].lstrip("/"), content))
    records = fetch_json("/myst.search.json")["records"]
    return Site(pages, project["pages"], records, repository())


# --- MyST's syntax tree to HTML -------------------------------------------------------------------------
def esc(text: str) -> str:
    return html.escape(text, quote=True)


def code_html(source: str, lang: str | None) -> str:
    try:
        lexer = get_lexer_by_name(lang or "text")
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(source, lexer, HtmlFormatter(nowrap=True))


def output_metadata(output: dict, cell: dict, key: str, mime: str):
    """A figure's `alt` or `caption`, looked up as nbconvert does: the output's metadata for the
    representation, the output's metadata, then the cell's metadata."""
    metadata = output.get("metadata") or {}
    found = (metadata.get(mime) or {}).get(key)
    if found is None:
        found = metadata.get(key)
    return found if found is not None else cell.get(key)


def merged_streams(outputs: list[dict]) -> list[dict]:
    """Outputs with consecutive pieces of the same stream joined, as a notebook shows them."""
    merged = []
    for node in outputs:
        data = node.get("jupyter_data", {})
        last = merged[-1]["jupyter_data"] if merged else None
        if (data.get("output_type") == "stream" and last and last.get("output_type") == "stream"
                and last.get("name") == data.get("name")):
            last["text"] = last.get("text", "") + data.get("text", "")
        else:
            merged.append({**node, "jupyter_data": dict(data)})
    return merged


class PageRenderer:
    """Renders one page's syntax tree; collects the files the page needs from the content server."""

    def __init__(self, site: Site, page: Page):
        self.site, self.page = site, page
        self.assets: dict[str, str] = {}  # content-server path -> path in the site
        self.unknown: set[str] = set()
        self.cell: dict = {}  # the metadata of the notebook cell being rendered
        self.tables = 0  # tables printed by the notebook so far
        self.markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
        self.markdown.add_render_rule("link_open", self._output_link_open)
        self.markdown.add_render_rule("link_close", self._output_link_close)

    # links -----------------------------------------------------------------------------------------
    def href(self, site_file: str, fragment: str = "") -> str:
        """A link from this page to a file of the site, relative so the site works under any path."""
        here = posixpath.dirname(self.page.file) or "."
        target = posixpath.relpath(site_file, here)
        return target + (f"#{fragment}" if fragment else "")

    def repository_path(self, relative: str) -> str:
        """A link written in the page's source, as a path from the repository's root."""
        base = posixpath.dirname(self.page.source)
        return posixpath.normpath(posixpath.join(base, relative.split("#", 1)[0]))

    def link_target(self, node: dict) -> str:
        url = node.get("url", "")
        if node.get("internal") or (node.get("type") == "crossReference" and url.startswith("/")):
            target = self.site.page_at(url)
            if target is None:
                print(f"{self.page.source}: no page for the link {url!r}", file=sys.stderr)
                return url
            return self.href(target.file, node.get("html_id") or url.partition("#")[2])
        if node.get("type") == "crossReference":
            return f"#{node.get('html_id') or node.get('identifier')}"
        if re.match(r"^[a-z][a-z0-9+.-]*:", url) or url.startswith("#"):
            return url  # https:, mailto:, or a place on this page
        # A file of the repository that is not a page: MyST copied it as a download; GitHub shows it.
        source = node.get("urlSource") or url
        path = self.repository_path(source)
        if not (REPO_ROOT / path).exists():
            print(f"{self.page.source}: the link {source!r} points to nothing in the repository", file=sys.stderr)
        return self.site.github(path)

    def _output_link_open(self, tokens, idx, options, env):
        # Links printed by a notebook point into the participant's workspace: text on the website.
        href = tokens[idx].attrGet("href") or ""
        tokens[idx].meta["kept"] = bool(re.match(r"^(https?:|mailto:|#)", href))
        return f'<a href="{esc(href)}">' if tokens[idx].meta["kept"] else '<span class="local-file">'

    def _output_link_close(self, tokens, idx, options, env):
        opening = next(t for t in reversed(tokens[:idx]) if t.type == "link_open")
        return "</a>" if opening.meta.get("kept") else "</span>"

    def asset(self, server_path: str) -> str:
        """A file of the content server (an image), copied into the site; its link from this page."""
        site_file = f"{STATIC}/files/{posixpath.basename(server_path)}"
        self.assets[server_path] = site_file
        return self.href(site_file)

    # nodes -----------------------------------------------------------------------------------------
    def render(self, node) -> str:
        if isinstance(node, list):
            return "".join(self.render(child) for child in node)
        method = getattr(self, "node_" + node.get("type", ""), None)
        if method is None:
            self.unknown.add(node.get("type", "?"))
            return self.children(node) if "children" in node else esc(node.get("value", ""))
        return method(node)

    def children(self, node: dict) -> str:
        return self.render(node.get("children", []))

    def node_root(self, node):
        return self.children(node)

    def node_block(self, node):
        if node.get("visibility") == "remove":
            return ""
        self.cell = node.get("data") or {}
        kind = "code" if node.get("kind") == "notebook-code" else "text"
        return f'<div class="cell {kind}">{self.children(node)}</div>\n'

    def node_text(self, node):
        return esc(node["value"])

    def node_paragraph(self, node):
        return f"<p>{self.children(node)}</p>\n"

    def node_heading(self, node):
        depth = min(max(node.get("depth", 2), 2), 6)  # the page's title is its only <h1>
        anchor = f' id="{esc(node["html_id"])}"' if node.get("html_id") else ""
        return f"<h{depth}{anchor}>{self.children(node)}</h{depth}>\n"

    def node_emphasis(self, node):
        return f"<em>{self.children(node)}</em>"

    def node_strong(self, node):
        return f"<strong>{self.children(node)}</strong>"

    def node_inlineCode(self, node):
        return f"<code>{esc(node['value'])}</code>"

    def node_break(self, node):
        return "<br>\n"

    def node_thematicBreak(self, node):
        return "<hr>\n"

    def node_blockquote(self, node):
        return f"<blockquote>{self.children(node)}</blockquote>\n"

    def node_comment(self, node):
        return ""

    def node_html(self, node):
        return node.get("value", "")

    def node_list(self, node):
        tag = "ol" if node.get("ordered") else "ul"
        start = f' start="{node["start"]}"' if node.get("ordered") and node.get("start", 1) != 1 else ""
        return f"<{tag}{start}>\n{self.children(node)}</{tag}>\n"

    def node_listItem(self, node):
        items = node.get("children", [])
        if len(items) == 1 and items[0].get("type") == "paragraph":
            inner = self.children(items[0])  # a tight item: no paragraph inside
        else:
            inner = self.render(items)
        if isinstance(node.get("checked"), bool):
            state = "done" if node["checked"] else "to do"
            inner = f'<span aria-hidden="true">{"☑" if node["checked"] else "☐"}</span> ' \
                    f'<span class="visually-hidden">({state})</span> {inner}'
        return f"<li>{inner}</li>\n"

    def node_table(self, node):
        rows = node.get("children", [])
        head = [r for r in rows if r.get("children") and all(c.get("header") for c in r["children"])]
        body = [r for r in rows if r not in head]
        thead = f"<thead>{self.render(head)}</thead>" if head else ""
        return f'<div class="table">\n<table>{thead}<tbody>{self.render(body)}</tbody></table>\n</div>\n'

    def node_tableRow(self, node):
        return f"<tr>{self.children(node)}</tr>\n"

    def node_tableCell(self, node):
        if node.get("header"):
            return f'<th scope="col">{self.children(node)}</th>'
        return f"<td>{self.children(node)}</td>"

    def node_link(self, node):
        return f'<a href="{esc(self.link_target(node))}">{self.children(node)}</a>'

    def node_crossReference(self, node):
        text = self.children(node) or esc(node.get("label", ""))
        return f'<a href="{esc(self.link_target(node))}">{text}</a>'

    def node_image(self, node):
        url = node.get("url", "")
        src = url if re.match(r"^https?:", url) else self.asset(url)
        return f'<img src="{esc(src)}" alt="{esc(node.get("alt", ""))}">'

    def node_admonition(self, node):
        kind = esc(node.get("kind", "note"))
        return f'<aside class="admonition {kind}">{self.children(node)}</aside>\n'

    def node_admonitionTitle(self, node):
        return f'<p class="admonition-title">{self.children(node)}</p>\n'

    def node_inlineMath(self, node):
        return f'<code class="math">{esc(node["value"])}</code>'

    def node_math(self, node):
        return f'<pre class="math"><code>{esc(node["value"])}</code></pre>\n'

    def node_code(self, node):
        if node.get("visibility") == "remove":
            return ""
        label = ' aria-label="Code"' if node.get("executable") else ""
        code = f'<pre class="highlight"{label}><code>{code_html(node["value"], node.get("lang"))}</code></pre>\n'
        return self.hidden(code, "Show the code") if node.get("visibility") == "hide" else code

    def hidden(self, content: str, summary: str) -> str:
        return f"<details><summary>{summary}</summary>{content}</details>\n"

    # notebook outputs ------------------------------------------------------------------------------
    def node_outputs(self, node):
        if node.get("visibility") == "remove" or not node.get("children"):
            return ""
        shown = "".join(self.output(child["jupyter_data"]) for child in merged_streams(node["children"]))
        shown = f'<div class="outputs">{shown}</div>\n'
        return self.hidden(shown, "Show the output") if node.get("visibility") == "hide" else shown

    def node_output(self, node):  # an output outside an `outputs` node
        return self.output(node["jupyter_data"])

    def output(self, data: dict) -> str:
        kind = data.get("output_type")
        if kind == "stream":
            stream = "stderr" if data.get("name") == "stderr" else "stdout"
            return f'<pre class="output {stream}">{esc(ANSI.sub("", data.get("text", "")))}</pre>\n'
        if kind == "error":
            trace = ANSI.sub("", "\n".join(data.get("traceback", [])))
            return f'<pre class="output error">{esc(trace)}</pre>\n'
        bundle = data.get("data", {})
        if WIDGET in bundle:  # a widget is live only in JupyterLab: its text says so
            return f'<p class="output widget">{esc(self.text(bundle.get("text/plain")))}</p>\n'
        mime = next((m for m in MIME_ORDER if m in bundle), None)
        if mime is None:
            return ""
        if mime == "text/html":
            return self.html_output(self.text(bundle[mime]))
        if mime.startswith("image/"):
            return self.image_output(bundle[mime], data, mime)
        if mime == "text/markdown":
            return f'<div class="output markdown">{self.markdown.render(self.text(bundle[mime]))}</div>\n'
        return f'<pre class="output">{esc(ANSI.sub("", self.text(bundle[mime])))}</pre>\n'

    @staticmethod
    def text(value) -> str:
        if isinstance(value, dict):
            value = value.get("content", "")
        return "".join(value) if isinstance(value, list) else (value or "")

    def html_output(self, markup: str) -> str:
        # A link to a file of the participant's workspace (an Evidently report) exists only where
        # the lesson ran: on the site it is text, as local files in the prose are.
        markup = WORKSPACE_LINK.sub(r'<span class="local-file">\g<text></span>', markup)
        # A wide table scrolls sideways inside its box; the box takes the focus so a keyboard scrolls
        # it, and a name of its own so a screen reader tells the boxes apart.
        if "<table" in markup:
            self.tables += 1
            return (f'<div class="output html scroll" tabindex="0" role="region" '
                    f'aria-label="Table output {self.tables}">{markup}</div>\n')
        return f'<div class="output html">{markup}</div>\n'

    def image_output(self, image: dict, data: dict, mime: str) -> str:
        if "path" not in image:
            return ""
        alt = output_metadata(data, self.cell, "alt", mime)
        caption = output_metadata(data, self.cell, "caption", mime)
        # No alt attribute when the notebook gives none: the audit then reports the figure, instead of
        # a screen reader announcing "<Figure size 1100x400 with 2 Axes>".
        alt_attribute = f' alt="{esc(alt)}"' if alt is not None else ""
        img = f'<img src="{esc(self.asset(image["path"]))}"{alt_attribute}>'
        if caption:
            return f'<figure class="output image">{img}<figcaption>{esc(caption)}</figcaption></figure>\n'
        return f'<div class="output image">{img}</div>\n'


# --- pages ----------------------------------------------------------------------------------------------
def nav_html(site: Site, current: Page, renderer: PageRenderer) -> str:
    """The table of contents: groups ("Lessons", "Exercises", ...) with their pages."""
    by_slug = {p.slug: p for p in site.pages}
    home = site.pages[0]

    def item(page: Page) -> str:
        mark = ' aria-current="page"' if page == current else ""
        return f'<li><a href="{esc(renderer.href(page.file))}"{mark}>{esc(page.title)}</a></li>'

    parts, group = [item(home)], None
    for entry in site.nav:
        page = by_slug.get(entry.get("slug"))
        if page is None:  # a group's title
            if group is not None:
                parts.append("</ul></li>")
            group = entry["title"]
            parts.append(f'<li><span class="group">{esc(group)}</span><ul>')
        elif group is not None and entry.get("level", 1) > 1:
            parts.append(item(page))
        else:
            if group is not None:
                parts.append("</ul></li>")
                group = None
            parts.append(item(page))
    if group is not None:
        parts.append("</ul></li>")
    return '<nav class="toc" aria-label="Course contents"><ul>' + "\n".join(parts) + "</ul></nav>"


def actions_html(site: Site, page: Page, renderer: PageRenderer, download: str | None) -> str:
    """Launch on Binder, download the notebook, see the source: the links every page carries."""
    if page.is_home or not page.source:
        launch, label = binder_url(), "Launch the course on Binder"
    else:
        launch = binder_url(page.source)
        label = "Launch this notebook on Binder" if page.is_notebook else "Open this page on Binder"
    links = [f'<a class="launch-binder" href="{esc(launch)}">{label}</a>']
    if download:
        links.append(f'<a href="{esc(renderer.href(download))}" download>Download the notebook</a>')
    if page.source and not page.is_home:
        links.append(f'<a class="source" href="{esc(site.github(page.source))}">See the source on GitHub</a>')
    return '<p class="page-actions">' + " ".join(links) + "</p>\n"


def page_html(site: Site, page: Page, renderer: PageRenderer, body: str, actions: str,
              scripts: tuple[str, ...] = ()) -> str:
    root = renderer.href("index.html")
    static = renderer.href(STATIC)
    script_tags = "".join(f'<script src="{static}/{name}"></script>\n' for name in scripts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(page.title)}{"" if page.is_home else " · " + SITE_NAME}</title>
<link rel="stylesheet" href="{static}/site.css">
</head>
<body>
<a class="skip-link" href="#content">Skip to the content</a>
<header class="site-header">
<a class="site-name" href="{root}">{SITE_NAME}</a>
<form class="search" role="search" action="{renderer.href("search.html")}" method="get">
<label for="search-query">Search the course</label>
<input id="search-query" name="q" type="search">
<button type="submit">Search</button>
</form>
</header>
<div class="layout">
{nav_html(site, page, renderer)}
<main id="content">
<h1>{esc(page.title)}</h1>
{actions}{body}</main>
</div>
<footer class="site-footer"><p>{SITE_NAME} kit: code, notebooks and data under the MIT licence.
Built with Jupyter Book.</p></footer>
{script_tags}</body>
</html>
"""


def write(out: Path, site_file: str, content: str | bytes) -> None:
    path = out / site_file
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def notebook_download(out: Path, page: Page) -> str | None:
    """The page's notebook, copied for download (an exercise comes without its answers)."""
    exports = [e for e in page.content["frontmatter"].get("exports", []) if e.get("format") == "ipynb"]
    if not page.is_notebook or not exports:
        return None
    site_file = f"{STATIC}/notebooks/{page.source}"
    write(out, site_file, fetch(exports[0]["url"]))
    return site_file


def render_page(out: Path, site: Site, page: Page) -> set[str]:
    renderer = PageRenderer(site, page)
    body = renderer.render(page.content["mdast"])
    actions = actions_html(site, page, renderer, notebook_download(out, page))
    write(out, page.file, page_html(site, page, renderer, body, actions))
    for server_path, site_file in renderer.assets.items():
        write(out, site_file, fetch(server_path))
    return {f"{page.source}: {kind}" for kind in renderer.unknown}


def search_page(out: Path, site: Site) -> None:
    page = Page("search", "/search", "Search", "", {})
    renderer = PageRenderer(site, page)
    body = ('<div id="search-results" aria-live="polite"><p>Type words in the search box above.</p></div>\n'
            '<noscript><p>Searching needs JavaScript.</p></noscript>\n')
    actions = actions_html(site, page, renderer, None)
    write(out, page.file, page_html(site, page, renderer, body, actions, ("search-index.js", "search.js")))


def search_index(out: Path, site: Site) -> None:
    """MyST's search records, with links to the site's files, as a script (works from file:// too)."""
    renderer = PageRenderer(site, Page("search", "/search", "Search", "", {}))
    entries = []
    for record in site.search_records:
        page = site.page_at(record["url"])
        if page is None:
            continue
        hierarchy = [record["hierarchy"][k] for k in sorted(record["hierarchy"]) if record["hierarchy"][k]]
        fragment = record["url"].partition("#")[2]
        entries.append({"title": " › ".join(hierarchy), "href": renderer.href(page.file, fragment),
                        "text": " ".join(record.get("content", "").split())})
    write(out, f"{STATIC}/search-index.js", "window.CLINIC_SEARCH_INDEX = " + json.dumps(entries) + ";\n")


def static_files(out: Path) -> None:
    css = (TEMPLATE_DIR / "site.css").read_text(encoding="utf-8")
    code = HtmlFormatter(style=CODE_STYLE).get_style_defs(".highlight")
    write(out, f"{STATIC}/site.css", css + "\n/* Code, by Pygments */\n" + code + "\n")
    shutil.copyfile(TEMPLATE_DIR / "search.js", out / STATIC / "search.js")


def main() -> int:
    out = Path(os.environ["BUILD_DIRECTORY"])
    site = read_site()
    unknown = set()
    for page in site.pages:
        unknown |= render_page(out, site, page)
    search_page(out, site)
    search_index(out, site)
    static_files(out)
    for problem in sorted(unknown):
        print(f"rendered as plain content, no rule for this MyST node: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
