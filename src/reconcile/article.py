"""Reading an article for ``reconcile extract``: its text and what it says about itself.

An article is a UTF-8 text file (plain text, Markdown) or an HTML page. Its metadata — title,
date, outlet, URL, author — are read from, in this order of trust:

* Markdown front matter (``---`` / ``key: value`` lines / ``---``) at the top;
* HTML ``<meta>`` tags (``og:title``, ``og:site_name``, ``og:url``, ``article:published_time``,
  ``name="date"``, ...), ``<link rel="canonical">``, ``<time datetime>`` and ``<title>``;
* a header block of ``Key: value`` lines at the top of a text ("Titre :", "Date :",
  "Média :", "URL :", "Published:", "Source:", "Link:", ...), and such lines anywhere when
  their key says what they are ("Source link : https://...", "Publish date : 2025-06-17");
* for a plain text: a line that is only a date near the top ("Publié le 28/12/2024 à 14h05",
  "December 19, 2024 10:41 AM"), a dateline ("KYIV, Jan 22 2025 —"), the first short line
  without a final full stop as the title (and a one-to-three-word line above it as the outlet).

Metadata lines are blanked out of the text that sentences are read from (keeping every other
character at its place, so quotes stay verbatim); a title stays in as its own paragraph.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from datetime import date
from html.parser import HTMLParser
from os import PathLike
from pathlib import Path

from reconcile.errors import InputFormatError
from reconcile.lexicon import normalize_phrase
from reconcile.when import parse_date

__all__ = ["Article", "ArticleError", "ArticleMeta", "parse_article", "read_article"]

HTML_SUFFIXES = (".html", ".htm", ".xhtml")


class ArticleError(InputFormatError):
    """An article file cannot be read as text (the message names the file and the place)."""


@dataclass(frozen=True)
class ArticleMeta:
    """What an article says about itself; ``found`` tells where each field was read."""

    title: str = ""
    date: date | None = None
    outlet: str = ""
    url: str = ""
    author: str = ""
    found: dict[str, str] = field(default_factory=dict)

    def citation(self, fallback: str) -> str:
        """The URL; else the outlet, title and date; else ``fallback`` (the file name)."""
        if self.url:
            return self.url
        if self.title and (self.outlet or self.date):
            parts = [f"{self.outlet}: {self.title}" if self.outlet else self.title]
            if self.date:
                parts.append(f"({self.date.isoformat()})")
            return " ".join(parts)
        return fallback


@dataclass(frozen=True)
class Article:
    """An article's text (metadata lines blanked), metadata and the span of its title in the
    text (``None`` when the title is not part of the text)."""

    name: str
    text: str
    meta: ArticleMeta
    title_span: tuple[int, int] | None = None
    dateline_span: tuple[int, int] | None = None  # "KYIV, Jan 22 2025 —": not a date of the figures


# --------------------------------------------------------------------------- keys

_KEYS: dict[str, str] = {}
for _field, _names in {
    "title": "title titre headline heading sujet",
    "date": "date published publie publication|date publish|date date|de|publication datetime "
    "mis|a|jour updated dateline publie|le published|on",
    "outlet": "outlet media journal site publisher newspaper source editeur publication|name",
    "url": "url link lien source|link canonical permalink adresse",
    "author": "author auteur by par byline signature",
}.items():
    for _n in _names.split():
        _KEYS[_n.replace("|", " ")] = _field

_KEY_LINE = re.compile(r"^\s*(?P<key>[^\W\d_][\w' ]{0,24}?)\s*:\s+(?P<value>\S.*?)\s*$")
_URL = re.compile(r"https?://\S+")


def _key_field(key: str) -> str | None:
    k = normalize_phrase(key)
    return _KEYS.get(k)


# --------------------------------------------------------------------------- decoding


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError:
            raise ArticleError(f"{name}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ArticleError(f"{name}: not {encoding} text either ({exc.reason} at byte {exc.start})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", data[:4096], re.I)
        if declared:
            charset = declared.group(1).decode("ascii")
            if charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
                try:
                    return data.decode(charset)
                except (LookupError, UnicodeDecodeError):
                    pass
        line = data[: exc.start].count(b"\n") + 1
        raise ArticleError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset {exc.start}, line {line}); "
            "save it as UTF-8, or give its encoding with --encoding (e.g. --encoding cp1252)"
        ) from None


def read_article(path: str | PathLike[str], encoding: str | None = None) -> Article:
    """Read an article file (UTF-8, BOM accepted, unless ``encoding`` is given).

    Raises FileNotFoundError / IsADirectoryError / PermissionError when it cannot be read
    and :class:`ArticleError` when it is not text in that encoding.
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, not an article file")
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such article file")
    data = p.read_bytes()
    nul = data.find(b"\x00")
    if encoding is None and nul >= 0:
        raise ArticleError(f"{p}: not a text file (NUL byte at byte offset {nul}: a binary file?)")
    text = _decode(data, str(p), encoding)
    if "\x00" in text:
        raise ArticleError(f"{p}: holds NUL characters: not a text file")
    kind = "html" if p.suffix.lower() in HTML_SUFFIXES else None
    return parse_article(text, p.name, kind=kind)


def parse_article(text: str, name: str = "", kind: str | None = None) -> Article:
    """An :class:`Article` from the text of a file; ``kind`` "html" or "text" (guessed when None)."""
    if kind is None:
        kind = "html" if re.match(r"\s*(?:<!doctype html|<html|<head|<meta|<body)", text, re.I) else "text"
    if kind == "html":
        return _from_html(text, name)
    return _from_text(text, name)


# --------------------------------------------------------------------------- plain text


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, pos + len(body), body))
        pos += len(line)
    return out


def _set(meta: dict, found: dict, fld: str, value, where: str) -> None:
    if value and not meta.get(fld):
        meta[fld] = value
        found[fld] = where


def _apply(meta: dict, found: dict, fld: str, value: str, where: str) -> None:
    value = value.strip().strip("\"'").strip()
    if not value:
        return
    if fld == "date":
        _set(meta, found, "date", parse_date(value), where)
    elif fld == "url" or (fld == "outlet" and _URL.fullmatch(value)):
        m = _URL.search(value)
        _set(meta, found, "url", m.group(0) if m else "", where)
    else:
        _set(meta, found, fld, value, where)


def _date_line(line: str) -> date | None:
    """The date of a line that is little else than a date ("10:3919/12/2024", "Publié le ...")."""
    stripped = line.strip()
    if not stripped or len(stripped) > 90:
        return None
    norm = normalize_phrase(stripped)
    m = re.search(r"(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)", norm)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    if not re.match(r"^(?:publie|published|mis a jour|updated|date|le |on |\d|[a-z]+ \d)", norm) and not re.match(
        r"^(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|"
        r"wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|"
        r"june|july|august|september|october|november|december)",
        norm,
    ):
        return None
    words = re.findall(r"[a-z]{4,}", norm)
    if len(words) > 8:
        return None
    return parse_date(stripped)


_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .'\-]{2,30}(?:\s*\([^)]{2,30}\))?,\s+(?P<date>[^—–(-]{4,40}?)\s*(?:\([^)]*\)\s*)?[—–-]"
)


def _from_text(text: str, name: str) -> Article:
    chars = list(text)
    meta: dict = {}
    found: dict[str, str] = {}
    lines = _lines(text)
    title_span: tuple[int, int] | None = None
    i = 0
    while i < len(lines) and not lines[i][2].strip():
        i += 1
    # front matter
    if i < len(lines) and lines[i][2].strip() == "---":
        j = i + 1
        while j < len(lines) and lines[j][2].strip() != "---":
            j += 1
        if j < len(lines):
            for s, e, line in lines[i + 1 : j]:
                m = _KEY_LINE.match(line) or re.match(r"^\s*(?P<key>[\w-]+)\s*:\s*(?P<value>.+?)\s*$", line)
                if not m:
                    continue
                fld = _key_field(m.group("key"))
                if fld == "title":
                    value = m.group("value")
                    v_start = s + line.index(value)
                    inner = value.strip()
                    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
                        v_start += value.index(inner) + 1
                        inner = inner[1:-1]
                    _set(meta, found, "title", inner.strip(), "front matter")
                    title_span = (v_start, v_start + len(inner))
                elif fld:
                    _apply(meta, found, fld, m.group("value"), "front matter")
            _blank(chars, lines[i][0], lines[j][1])
            if title_span:
                chars[title_span[0] : title_span[1]] = list(text[title_span[0] : title_span[1]])
            i = j + 1
    # header block: Key: value lines at the top
    header_end = i
    j = i
    while j < len(lines):
        s, e, line = lines[j]
        if not line.strip():
            if j > i and header_end > i:
                break
            j += 1
            continue
        m = _KEY_LINE.match(line)
        fld = _key_field(m.group("key")) if m else None
        if not fld:
            break
        if fld == "title":
            v = m.group("value")
            v_start = s + m.start("value")
            _set(meta, found, "title", v, "header block")
            title_span = (v_start, v_start + len(v))
            _blank(chars, s, v_start)
        else:
            _apply(meta, found, fld, m.group("value"), "header block")
            _blank(chars, s, e)
        header_end = j + 1
        j += 1
    # Key: value lines elsewhere whose key is unambiguous
    for s, e, line in lines[header_end:]:
        m = _KEY_LINE.match(line)
        if not m:
            continue
        key = normalize_phrase(m.group("key"))
        if key in (
            "source link",
            "publish date",
            "date de publication",
            "lien",
            "url",
            "link",
            "permalink",
            "author",
            "auteur",
            "published",
            "publie le",
        ):
            fld = _key_field(key)
            if fld:
                _apply(meta, found, fld, m.group("value"), f"line {key!r}")
                _blank(chars, s, e)
    # near the top: date lines, a title, an outlet
    body_lines = [(s, e, line) for s, e, line in lines[header_end:] if "".join(chars[s:e]).strip()]
    top = body_lines[:6]
    for s, e, line in top:
        d = _date_line(line)
        if d and not meta.get("date"):
            _set(meta, found, "date", d, "a date line near the top")
            _blank(chars, s, e)
        elif d:
            _blank(chars, s, e)
    dateline_span = None
    for s, e, line in body_lines[:8]:
        m = _DATELINE.match(line)
        if m:
            dateline_span = (s, s + m.end())
            d = parse_date(m.group("date"))
            if d:
                _set(meta, found, "date", d, "the dateline")
            break
    if title_span is None:
        candidates = [(s, e, line) for s, e, line in lines[header_end:] if "".join(chars[s:e]).strip()][:3]
        prev: tuple[int, int, str] | None = None
        for s, e, line in candidates:
            stripped = line.strip()
            words = stripped.split()
            if len(words) >= 4 and len(stripped) <= 200 and not stripped.endswith((".", ":", ",", ";")):
                start = s + line.index(stripped)
                title_span = (start, start + len(stripped))
                _set(meta, found, "title", stripped, "the first line")
                if prev is not None and 1 <= len(prev[2].split()) <= 3 and not re.search(r"\d", prev[2]):
                    _set(meta, found, "outlet", prev[2].strip(), "the line above the title")
                break
            if len(words) >= 4:
                break
            prev = (s, e, line)
    meta_obj = ArticleMeta(found=found, **meta)
    return Article(name, "".join(chars), meta_obj, title_span, dateline_span)


# --------------------------------------------------------------------------- HTML

_SKIP = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "iframe",
    "head",
    "title",
}
_BLOCK = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "figcaption",
    "td",
    "th",
    "div",
    "section",
    "article",
    "main",
    "br",
    "tr",
    "dd",
    "dt",
    "pre",
    "caption",
}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.meta: dict[str, str] = {}
        self.title = ""
        self.in_title = False
        self.h1: list[str] = []
        self.in_h1 = False
        self.time = ""
        self.canonical = ""

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"].strip())
            return
        if tag == "link" and "canonical" in a.get("rel", "").lower() and a.get("href"):
            self.canonical = self.canonical or a["href"].strip()
            return
        if tag == "time" and a.get("datetime") and not self.time:
            self.time = a["datetime"]
        if tag == "title":
            self.in_title = True
        if tag in _SKIP:
            self.skip += 1
            return
        if tag in _BLOCK:
            self.parts.append("\n\n")
        if tag == "h1" and not self.skip:
            self.in_h1 = True

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag in _BLOCK:
            self.parts.append("\n\n")
        if tag == "h1":
            self.in_h1 = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.skip:
            return
        self.parts.append(data)
        if self.in_h1:
            self.h1.append(data)


def _from_html(text: str, name: str) -> Article:
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    body = "".join(parser.parts)
    # tidy: collapse runs of blank lines and spaces within lines, keep paragraphs apart
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body)]
    body = "\n\n".join(p for p in paragraphs if p) + "\n"
    meta: dict = {}
    found: dict[str, str] = {}
    m = parser.meta
    for fld, keys in {
        "title": ("og:title", "twitter:title", "headline", "dc.title"),
        "outlet": ("og:site_name", "application-name", "publisher", "dc.publisher", "author:site"),
        "url": ("og:url", "twitter:url"),
        "author": ("author", "article:author", "dc.creator"),
    }.items():
        for k in keys:
            if m.get(k):
                _set(meta, found, fld, html.unescape(m[k]), f"<meta {k}>")
                break
    for k in (
        "article:published_time",
        "datepublished",
        "date",
        "pubdate",
        "dc.date",
        "publish-date",
        "og:published_time",
        "article:modified_time",
    ):
        if m.get(k) and not meta.get("date"):
            _set(meta, found, "date", parse_date(m[k]), f"<meta {k}>")
    if not meta.get("date") and parser.time:
        _set(meta, found, "date", parse_date(parser.time), "<time datetime>")
    if not meta.get("url") and parser.canonical:
        _set(meta, found, "url", parser.canonical, "<link rel=canonical>")
    h1 = " ".join("".join(parser.h1).split())
    page_title = " ".join(parser.title.split())
    suffix = re.search(r"\s[|\-–—]\s([^|\-–—]{2,60})$", page_title)
    if suffix and not meta.get("outlet") and len(suffix.group(1).split()) <= 6:
        _set(meta, found, "outlet", suffix.group(1).strip(), "the end of <title>")
    if not meta.get("title"):
        title = " ".join(parser.title.split())
        if meta.get("outlet"):
            title = re.sub(rf"\s*[|\-–—]\s*{re.escape(meta['outlet'])}\s*$", "", title)
        _set(meta, found, "title", title or h1, "<title>" if title else "<h1>")
    if not meta.get("date"):
        for line in body.splitlines()[:12]:
            d = _date_line(line)
            if d:
                _set(meta, found, "date", d, "a date line near the top")
                break
    title_span = None
    if h1:
        at = body.find(h1)
        if at >= 0:
            title_span = (at, at + len(h1))
    return Article(name, body, ArticleMeta(found=found, **meta), title_span)


def with_meta(article: Article, **changes) -> Article:
    """A copy of ``article`` with metadata fields changed (e.g. a date given by the user)."""
    return replace(article, meta=replace(article.meta, **changes))
