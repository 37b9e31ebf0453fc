"""Checks of the error summary at the top of a form, shared by the tests that post bad input.

Every form error is listed in the summary (``.error-summary``), and each error tied to a field
links to that field: ``href="#<id>"`` where an element of that id is on the page, and every
field's own error (``<p class="field-error" id="<id>-error">``) has a link to ``#<id>`` in a
summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Summary:
    """A page's error summaries: their headings, links (target id, text) and unlinked items."""

    headings: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    field_errors: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return bool(self.headings)

    def problems(self) -> list[str]:
        """What is wrong with the page's summaries: dead links, field errors left out."""
        found = [
            f"link to #{target} with no such element"
            for target, _ in self.links
            if target not in self.ids
        ]
        linked = {target for target, _ in self.links}
        for error_id in self.field_errors:
            target = error_id.removesuffix("-error")
            if target not in linked:
                found.append(f"field error #{error_id} is not in the summary")
        return found


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.summary = Summary()
        self._depth = 0  # > 0 inside a summary
        self._heading = False
        self._item: list[str] | None = None
        self._link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.summary.ids.add(str(a["id"]))
        classes = (a.get("class") or "").split()
        if tag == "p" and "field-error" in classes and a.get("id"):
            self.summary.field_errors.append(str(a["id"]))
        if self._depth:
            if tag == "div":
                self._depth += 1
            elif tag in ("h2", "h3", "h4", "h5"):
                self._heading = True
                self.summary.headings.append("")
            elif tag == "li":
                self._item = []
                self._link = None
            elif tag == "a" and self._item is not None:
                self._link = (a.get("href") or "").removeprefix("#")
        elif tag == "div" and "error-summary" in classes:
            self._depth = 1

    def handle_endtag(self, tag: str) -> None:
        if not self._depth:
            return
        if tag == "div":
            self._depth -= 1
        elif tag in ("h2", "h3", "h4", "h5"):
            self._heading = False
        elif tag == "li" and self._item is not None:
            text = " ".join("".join(self._item).split())
            if self._link is not None:
                self.summary.links.append((self._link, text))
            else:
                self.summary.unlinked.append(text)
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._heading:
            self.summary.headings[-1] += data
        elif self._item is not None:
            self._item.append(data)


def summary_of(html: str) -> Summary:
    parser = _Parser()
    parser.feed(html)
    return parser.summary
