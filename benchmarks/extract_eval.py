"""Measure `reconcile extract` against the labelled articles of tests/data/extract_gold/.

    python benchmarks/extract_eval.py                 # the table, as in benchmarks/RESULTS.md
    python benchmarks/extract_eval.py --json out.json # the numbers, and every miss, as JSON
    python benchmarks/extract_eval.py --misses        # list what was missed or read wrong
    python benchmarks/extract_eval.py --check         # exit 1 when a target is missed

Each expected row (one figure a person would code) is matched to at most one extracted row
of the same article: same value and upper value, or, for a vague figure, a phrase holding the
expected one. Then, per field:

* recall: of the expected rows that state the field, the share whose match has it right (a
  figure not found counts as wrong);
* precision: of the matched rows where the extractor filled the field, the share that is
  right (a field filled where the text states nothing counts as wrong).

For figures, recall is found / expected and precision is true / extracted. A cell of the
gold may list acceptable readings separated by "|". `period` is right when the start and the
end (blank end = the claim's date) both are. Relative figures ("more than half of the
force") must be among the extractor's skipped figures.

Targets (issue 23): figures recall >= 95%; sources and reported_on recall >= 80%.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reconcile.article import read_article
from reconcile.extract import extract_article
from reconcile.lexicon import normalize_phrase

GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "extract_gold"
FIELDS = ("qualifier", "category", "population", "source", "reported_on", "period", "measure")
TARGETS = {("figures", "recall"): 0.95, ("source", "recall"): 0.80, ("reported_on", "recall"): 0.80}


def _norm(text: str) -> str:
    text = normalize_phrase(str(text))
    return re.sub(r"^(?:the|le|la|les|l'|a|an|un|une|des)\s*", "", text)


def _alts(cell: str) -> list[str]:
    return [c.strip() for c in str(cell).split("|")] if str(cell).strip() else []


def _num(cell) -> float | None:
    try:
        return float(cell) if str(cell).strip() != "" else None
    except ValueError:
        return None


@dataclass
class Score:
    right: int = 0
    total: int = 0

    @property
    def rate(self) -> float | None:
        return self.right / self.total if self.total else None


@dataclass
class Result:
    recall: dict[str, Score] = field(default_factory=lambda: {})
    precision: dict[str, Score] = field(default_factory=lambda: {})
    misses: list[dict] = field(default_factory=list)
    by_language: dict[str, Score] = field(default_factory=dict)
    meta: dict[str, Score] = field(default_factory=dict)
    articles: int = 0
    expected_rows: int = 0
    extracted_rows: int = 0


def _same_figure(exp: dict, got: dict) -> bool:
    if exp["qualifier"] == "vague" or (exp["value"] == "" and exp["phrase"]):
        return (
            _norm(exp["phrase"]) in _norm(got["phrase"])
            and got["value"] in ("", None)
            or (_norm(exp["phrase"]) in _norm(got["phrase"]) and got["qualifier"] == "vague")
        )
    return _num(exp["value"]) == _num(got["value"]) and _num(exp["value_high"]) == _num(got["value_high"])


def _field_ok(name: str, exp: dict, got: dict) -> tuple[bool, bool, bool]:
    """(stated in the gold, filled by the extractor, right)."""
    if name == "period":
        stated = bool(exp["period_start"] or exp["period_end"])
        filled = bool(got["period_start"] or got["period_end"])
        start_ok = (
            (got["period_start"] in _alts(exp["period_start"])) if exp["period_start"] else not got["period_start"]
        )
        if exp["period_end"]:
            end_ok = (got["period_end"] or got["reported_on"]) in _alts(exp["period_end"])
        else:
            end_ok = not got["period_end"] or got["period_end"] == got["reported_on"]
        return stated, filled, start_ok and end_ok
    if name == "measure":
        e = exp.get("measure") or "total"
        g = got.get("measure") or "total"
        return e != "total", g != "total", e == g
    alts = _alts(exp[name])
    value = str(got[name])
    if name == "source":
        return bool(alts), bool(value), _norm(value) in {_norm(a) for a in alts}
    return bool(alts), bool(value), value in alts


def _extract(path: Path):
    return extract_article(read_article(path))


def evaluate(gold: Path = GOLD, extract=_extract) -> Result:
    """Score ``extract`` (a path -> an :class:`~reconcile.extract.Extraction`-like object with
    ``rows``, ``skipped`` and ``meta``) on the labelled articles of ``gold``."""
    res = Result()
    for key in ("figures", *FIELDS, "skipped"):
        res.recall[key] = Score()
        res.precision[key] = Score()
    with (gold / "articles.csv").open(encoding="utf-8") as fh:
        index = list(csv.DictReader(fh))
    for entry in index:
        path = gold / entry["file"]
        stem = path.name.split(".")[0]
        with (gold / f"{stem}.expected.csv").open(encoding="utf-8") as fh:
            expected = list(csv.DictReader(fh))
        extraction = extract(path)
        got_rows = [
            {k: ("" if v is None else str(v)) for k, v in r.items()} for r in extraction.rows.to_dict("records")
        ]
        res.articles += 1
        res.extracted_rows += len(got_rows)
        lang = entry["language"]
        res.by_language.setdefault(lang, Score())
        # metadata
        meta = extraction.meta
        for fld in ("title", "date", "outlet", "url"):
            want = entry[fld]
            have = str(getattr(meta, fld) or "")
            if want:
                score = res.meta.setdefault(fld, Score())
                score.total += 1
                score.right += int(normalize_phrase(have) == normalize_phrase(want))
        # figures
        claims = [e for e in expected if e["qualifier"] != "skipped"]
        relatives = [e for e in expected if e["qualifier"] == "skipped"]
        res.expected_rows += len(claims)
        used: set[int] = set()
        pairs: list[tuple[dict, dict | None]] = []
        for exp in claims:
            options = [i for i, g in enumerate(got_rows) if i not in used and _same_figure(exp, g)]
            options.sort(key=lambda i: (got_rows[i]["category"] not in _alts(exp["category"]), i))
            if options:
                used.add(options[0])
                pairs.append((exp, got_rows[options[0]]))
            else:
                pairs.append((exp, None))
        res.recall["figures"].total += len(claims)
        res.recall["figures"].right += sum(1 for _, g in pairs if g is not None)
        res.precision["figures"].total += len(got_rows)
        res.precision["figures"].right += len(used)
        res.by_language[lang].total += len(claims)
        res.by_language[lang].right += sum(1 for _, g in pairs if g is not None)
        for i, g in enumerate(got_rows):
            if i not in used:
                res.misses.append(
                    {
                        "article": entry["file"],
                        "kind": "extra figure",
                        "value": g["value"],
                        "phrase": g["phrase"],
                        "category": g["category"],
                    }
                )
        for exp, g in pairs:
            if g is None:
                res.misses.append(
                    {
                        "article": entry["file"],
                        "kind": "figure not found",
                        "value": exp["value"],
                        "phrase": exp["phrase"],
                    }
                )
            for name in FIELDS:
                if g is None:
                    stated = (
                        bool(exp.get(name) or (name == "period" and (exp["period_start"] or exp["period_end"])))
                        if name != "measure"
                        else (exp.get("measure") or "total") != "total"
                    )
                    if stated:
                        res.recall[name].total += 1
                    continue
                stated, filled, ok = _field_ok(name, exp, g)
                if stated:
                    res.recall[name].total += 1
                    res.recall[name].right += int(ok)
                if filled:
                    res.precision[name].total += 1
                    res.precision[name].right += int(ok and stated) if name != "measure" else int(ok)
                if (stated or filled) and not ok:
                    want = {"period": f"{exp['period_start']}..{exp['period_end']}"}.get(name, exp.get(name, ""))
                    have = {"period": f"{g['period_start']}..{g['period_end']}"}.get(name, g.get(name, ""))
                    res.misses.append(
                        {
                            "article": entry["file"],
                            "kind": name,
                            "value": exp["value"] or exp["phrase"],
                            "expected": want,
                            "extracted": have,
                        }
                    )
        # relative figures
        skipped = [s.phrase for s in extraction.skipped if s.kind == "relative"]
        found = set()
        for exp in relatives:
            key = _norm(exp["phrase"])
            hit = next(
                (i for i, s in enumerate(skipped) if i not in found and (key in _norm(s) or _norm(s) in key)), None
            )
            res.recall["skipped"].total += 1
            if hit is not None:
                found.add(hit)
                res.recall["skipped"].right += 1
            else:
                res.misses.append(
                    {"article": entry["file"], "kind": "relative figure not reported", "phrase": exp["phrase"]}
                )
        res.precision["skipped"].total += len(skipped)
        res.precision["skipped"].right += len(found)
    return res


def _pct(score: Score) -> str:
    return "—" if score.rate is None else f"{100 * score.rate:.1f}% ({score.right}/{score.total})"


def table(res: Result) -> str:
    lines = [
        f"{res.articles} articles, {res.expected_rows} expected figures, {res.extracted_rows} extracted rows",
        "",
        "| what | recall | precision |",
        "| --- | --- | --- |",
    ]
    labels = {
        "figures": "figures",
        "qualifier": "qualifiers",
        "category": "categories",
        "population": "populations",
        "source": "sources",
        "reported_on": "dates (`reported_on`)",
        "period": "periods",
        "measure": "measure (per day)",
        "skipped": "relative figures reported as skipped",
    }
    for key in ("figures", *FIELDS, "skipped"):
        lines.append(f"| {labels[key]} | {_pct(res.recall[key])} | {_pct(res.precision[key])} |")
    lines += ["", "| figures found, by language | recall |", "| --- | --- |"]
    for lang, score in sorted(res.by_language.items()):
        lines.append(f"| {lang} | {_pct(score)} |")
    lines += ["", "| article metadata, where stated | right |", "| --- | --- |"]
    for fld, score in res.meta.items():
        lines.append(f"| {fld} | {_pct(score)} |")
    return "\n".join(lines)


def check(res: Result) -> list[str]:
    """Targets missed, as messages (empty when all are met)."""
    failed = []
    for (key, kind), target in TARGETS.items():
        score = getattr(res, kind)[key]
        if score.rate is None or score.rate < target:
            failed.append(f"{key} {kind} {_pct(score)} < {100 * target:.0f}%")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=GOLD, help="folder of labelled articles")
    parser.add_argument("--json", type=Path, help="write the numbers and the misses here")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    res = evaluate(args.gold)
    print(table(res))
    if args.misses:
        print()
        for m in res.misses:
            print(" ", json.dumps(m, ensure_ascii=False))
    if args.json:
        out = {
            "recall": {k: vars(v) for k, v in res.recall.items()},
            "precision": {k: vars(v) for k, v in res.precision.items()},
            "misses": res.misses,
        }
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    failed = check(res)
    if failed:
        print("\ntargets missed: " + "; ".join(failed), file=sys.stderr)
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
