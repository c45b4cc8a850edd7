"""Tests of what `reconcile extract` reads around a figure: dates and periods (when.py),
article metadata (article.py), the sources and populations tables (tables.py), and several
figures per sentence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.article import ArticleError, parse_article, read_article
from reconcile.extract import extract_article, extract_claims
from reconcile.lexicon import format_number, normalize_phrase
from reconcile.tables import TableError, default_populations, default_sources, load_populations, load_sources
from reconcile.when import day_of, find_dates, parse_date, period_of

FR_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))


def _only(text: str, kind: str | None = None):
    found = find_dates(normalize_phrase(text))
    if kind:
        found = [m for m in found if m.kind == kind]
    assert len(found) == 1, (text, found)
    return found[0]


# --------------------------------------------------------------------------- when.py


@settings(max_examples=200, deadline=None)
@given(dates, st.sampled_from(["fr", "en", "iso", "slash", "en_day_first"]))
def test_parse_date_round_trip(d, style):
    text = {
        "fr": f"{d.day} {FR_MONTHS[d.month - 1]} {d.year}",
        "en": f"{EN_MONTHS[d.month - 1]} {d.day}, {d.year}",
        "iso": d.isoformat(),
        "slash": f"{d.day:02d}/{d.month:02d}/{d.year}",
        "en_day_first": f"{d.day} {EN_MONTHS[d.month - 1]} {d.year} 10:41 AM",
    }[style]
    assert parse_date(text) == d


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(0, 6), st.sampled_from(["fr", "en"]))
def test_weekday_is_the_latest_such_day_on_or_before_the_reference(ref, weekday, lang):
    name = (FR_DAYS if lang == "fr" else EN_DAYS)[weekday]
    got = day_of(_only(f"a déclaré {name}" if lang == "fr" else f"said on {name}", "weekday"), ref)
    assert got.weekday() == weekday and ref - timedelta(days=6) <= got <= ref


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(1, 12), st.integers(1, 28))
def test_day_without_year_is_the_latest_on_or_before_the_reference(ref, month, day):
    got = day_of(_only(f"le {day} {FR_MONTHS[month - 1]}", "day"), ref)
    assert (got.month, got.day) == (month, day)
    assert ref - timedelta(days=366) < got <= ref


@settings(max_examples=100, deadline=None)
@given(
    dates,
    st.integers(1, 30),
    st.sampled_from(["les {n} derniers jours", "in the past {n} days", "en {n} jours", "over the last {n} days"]),
)
def test_the_last_n_days_are_the_n_days_before_the_claim(ref, n, template):
    start, end, _ = period_of(_only(template.format(n=n), "ndays"), ref)
    assert (end - start).days == n - 1 and end == ref - timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(dates, st.integers(1, 12))
def test_a_month_runs_from_its_first_day_to_its_last_or_the_claim(ref, month):
    start, end, _ = period_of(_only(f"in {EN_MONTHS[month - 1]}", "month"), ref)
    assert start.day == 1 and start.month == month and start <= ref
    assert end <= ref and (end == ref or (end + timedelta(days=1)).day == 1)


@pytest.mark.parametrize(
    "text, ref, pop_start, expected",
    [
        ("depuis le début du mois de novembre", date(2024, 12, 23), None, (date(2024, 11, 1), None)),
        ("depuis la mi-décembre", date(2025, 1, 6), None, (date(2024, 12, 15), None)),
        ("since the start of the full-scale invasion", date(2025, 4, 4), date(2022, 2, 24), (date(2022, 2, 24), None)),
        ("since February 2022", date(2024, 12, 17), date(2022, 2, 24), (date(2022, 2, 24), None)),
        ("since January 1", date(2025, 1, 28), None, (date(2025, 1, 1), None)),
        ("between January and February 2025", date(2025, 6, 15), None, (date(2025, 1, 1), date(2025, 2, 28))),
        ("in October and November 2024", date(2025, 6, 15), None, (date(2024, 10, 1), date(2024, 11, 30))),
        ("last week", date(2024, 12, 16), None, (date(2024, 12, 9), date(2024, 12, 15))),
        ("au cours des dernières 24 heures", date(2024, 12, 17), None, (date(2024, 12, 16), date(2024, 12, 16))),
        ("lors des combats de samedi et dimanche", date(2024, 12, 16), None, (date(2024, 12, 14), date(2024, 12, 15))),
        ("en une semaine", date(2024, 12, 28), None, (date(2024, 12, 21), date(2024, 12, 27))),
        ("la semaine précédente", date(2025, 5, 12), None, (date(2025, 4, 28), date(2025, 5, 4))),
        ("tués depuis mardi", date(2025, 3, 9), None, (date(2025, 3, 4), None)),
        ("since the start of the year", date(2024, 12, 3), None, (date(2024, 1, 1), None)),
        ("depuis le début de la semaine", date(2025, 2, 20), None, (date(2025, 2, 17), None)),
        ("pendant la semaine écoulée", date(2025, 3, 1), None, (date(2025, 2, 22), date(2025, 2, 28))),
        ("en quarante-huit heures", date(2025, 1, 6), None, (date(2025, 1, 4), date(2025, 1, 5))),
        ("au cours du mois de janvier", date(2025, 2, 2), None, (date(2025, 1, 1), date(2025, 1, 31))),
        ("en deux jours de combats", date(2025, 3, 9), None, (date(2025, 3, 7), date(2025, 3, 8))),
        ("from 24.02.22 to 15.03.25", date(2025, 3, 15), None, (date(2022, 2, 24), date(2025, 3, 15))),
        ("trois mois après le début de l'invasion", date(2022, 5, 24), date(2022, 2, 24), (date(2022, 2, 24), None)),
        ("depuis son déploiement", date(2025, 2, 27), date(2024, 11, 1), (date(2024, 11, 1), None)),
        ("since they arrived in Kursk", date(2025, 2, 27), date(2024, 11, 1), (date(2024, 11, 1), None)),
        (
            "depuis son arrivée sur le front en décembre",
            date(2025, 2, 12),
            date(2024, 11, 1),
            (date(2024, 12, 1), None),
        ),
    ],
)
def test_periods(text, ref, pop_start, expected):
    found = find_dates(normalize_phrase(text))
    first = found[0]
    got = period_of(first, ref, population_start=pop_start, following=found[1:])
    assert got is not None and got[:2] == expected, (text, got)


def test_recent_weeks_give_no_period():
    assert period_of(_only("ces dernières semaines"), date(2024, 12, 19)) is None


def test_no_month_in_may_have():
    assert find_dates(normalize_phrase("they may have been killed in march")) == [] or all(
        m.text != "may" for m in find_dates(normalize_phrase("they may have been killed"))
    )


# --------------------------------------------------------------------------- article.py


def test_header_block_front_matter_and_trailing_lines():
    a = parse_article(
        "Titre : Koursk : un bilan\nDate : 03/01/2025\nMédia : L'Observateur\n\n"
        "Le ministère britannique de la Défense estime que 300 soldats russes ont été tués.\n\n"
        "Source link : https://example.org/a\n",
        "a.txt",
    )
    assert (a.meta.title, a.meta.date, a.meta.outlet, a.meta.url) == (
        "Koursk : un bilan",
        date(2025, 1, 3),
        "L'Observateur",
        "https://example.org/a",
    )
    assert a.meta.citation("a.txt") == "https://example.org/a"
    assert "Source link" not in a.text and "Le ministère britannique" in a.text
    fm = parse_article('---\ntitle: "Un titre"\ndate: 2024-11-21\noutlet: "Le Courrier"\n---\n\nTexte.\n', "b.md")
    assert (fm.meta.title, fm.meta.date, fm.meta.outlet) == ("Un titre", date(2024, 11, 21), "Le Courrier")
    assert fm.meta.citation("b.md") == "Le Courrier: Un titre (2024-11-21)"
    assert fm.text[fm.title_span[0] : fm.title_span[1]] == "Un titre"


def test_html_meta_tags_and_body():
    html = (
        "<html><head><title>Kursk losses | The Ledger</title>"
        '<meta property="og:title" content="Kursk losses">'
        '<meta property="og:site_name" content="The Ledger">'
        '<meta property="og:url" content="https://ledger.example/kursk">'
        '<meta property="article:published_time" content="2025-06-15T18:20:00+01:00">'
        "<script>var x = 3000;</script></head><body><nav>Home</nav>"
        "<h1>Kursk losses</h1><p>More than 6,000 North Korean soldiers have been killed or wounded, "
        "the UK Ministry of Defence said on Sunday.</p><footer>1,200 words</footer></body></html>"
    )
    a = parse_article(html, "k.html")
    assert (a.meta.title, a.meta.outlet, a.meta.url, a.meta.date) == (
        "Kursk losses",
        "The Ledger",
        "https://ledger.example/kursk",
        date(2025, 6, 15),
    )
    assert "3000" not in a.text and "words" not in a.text and "Home" not in a.text
    rows = extract_article(a).rows
    assert rows["value"].tolist() == [6000]
    assert rows.iloc[0][["source", "reported_on", "citation", "population"]].tolist() == [
        "UK Ministry of Defence",
        "2025-06-15",
        "https://ledger.example/kursk",
        "dprk_kursk",
    ]


def test_dateline_gives_the_date_and_is_not_a_period():
    rows = extract_claims(
        "KYIV, Jan 22 2025 — Russia lost 1,380 soldiers killed or wounded over the past day, "
        "Ukraine's General Staff said on Wednesday.",
        "d.txt",
    )
    assert rows.iloc[0][["reported_on", "period_start", "period_end"]].tolist() == [
        "2025-01-22",
        "2025-01-21",
        "2025-01-21",
    ]


def test_non_utf8_article_is_refused_with_the_place(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Les soldats ont été tués.".encode("latin-1"))
    with pytest.raises(ArticleError, match=r"latin1.txt: not UTF-8 text \(byte 0xe9 at byte offset 16, line 1\)"):
        read_article(path)
    assert "été" in read_article(path, encoding="latin-1").text
    html = tmp_path / "page.html"
    html.write_bytes('<html><head><meta charset="windows-1252"></head><body><p>été</p></body></html>'.encode("cp1252"))
    assert "été" in read_article(html).text  # the declared charset is honoured


# --------------------------------------------------------------------------- tables.py


def test_sources_table_stance_and_aliases():
    sources, pops = default_sources(), default_populations()
    assert sources.lookup("Le NIS").name == "South Korea National Intelligence Service (NIS)"
    assert sources.stance("UK Ministry of Defence", pops.by_id["dprk_kursk"]) == "adversary"
    assert sources.stance("Russian Security Council (Sergei Shoigu)", pops.by_id["dprk_kursk"]) == "own"
    assert sources.stance("The New York Times", pops.by_id["dprk_kursk"]) == "neutral"
    assert sources.stance("not a source", pops.by_id["dprk_kursk"]) == ""


def test_user_tables_are_laid_over_the_shipped_ones(tmp_path):
    user = tmp_path / "sources.toml"
    user.write_text(
        '[[source]]\nname = "Kharkiv regional administration"\ngroup = "ukraine_local"\n'
        'camp = "ukraine"\naliases = { fr = ["administration régionale de Kharkiv"], '
        'en = ["Kharkiv regional administration", "Oleh Syniehubov"] }\n',
        encoding="utf-8",
    )
    table = load_sources(user)
    assert table.lookup("oleh syniehubov").name == "Kharkiv regional administration"
    assert table.lookup("NIS") is not None  # shipped entries kept
    rows = extract_claims(
        "Oleh Syniehubov said on Monday that 12 civilians had been killed in Kharkiv.", "k.txt", sources=table
    )
    assert rows.iloc[0][["source", "population"]].tolist() == ["Kharkiv regional administration", "ukraine_civilians"]
    pops = tmp_path / "pops.toml"
    pops.write_text(
        '[[population]]\nid = "sudan_civilians"\ncamp = "neutral"\nstart = "2023-04-15"\n'
        'names = { en = ["Sudanese civilians"] }\n',
        encoding="utf-8",
    )
    rows = extract_claims(
        "At least 40 Sudanese civilians were killed since the war began, the UN said.",
        "s.txt",
        populations=load_populations(pops),
    )
    assert rows.iloc[0][["population", "period_start"]].tolist() == ["sudan_civilians", "2023-04-15"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("[[source]]\nname = 3\n", r"source 1: `name` must be a non-empty string, found 3"),
        ('[[source]]\nname = "X"\ncamp = "mars"\n', r"source 'X': `camp` 'mars' is not a key of \[camps\]"),
        ('[[source]]\nname = "X"\nstance = { dprk_kursk = "hostile" }\n', r"source 'X': `stance` must map"),
        ("[[source]\n", r"not valid TOML"),
    ],
)
def test_bad_sources_file_is_named(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TableError, match=message) as info:
        load_sources(path)
    assert str(path) in str(info.value)


def test_bad_population_start_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[population]]\nid = "x"\nstart = "24/02/2022"\n', encoding="utf-8")
    with pytest.raises(TableError, match=r"population 'x': `start` must be a date YYYY-MM-DD, found '24/02/2022'"):
        load_populations(path)


# --------------------------------------------------------------------------- several figures


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Selon l'état-major ukrainien, environ 300 d'entre eux ont été tués et 2 700 blessés.",
            [(300, "about", "killed"), (2700, "about", "wounded")],
        ),
        (
            "Several thousand more soldiers are expected, adding to the 11,000 already in the Kursk region.",
            [("", "vague", "deployed"), (11000, "exact", "deployed")],
        ),
        (
            "Ukrainian drone units killed 120 North Korean soldiers and wounded 340 in three days.",
            [(120, "exact", "killed"), (340, "exact", "wounded")],
        ),
        (
            "L'armée russe a perdu environ 1 200, 1 350 et 1 410 soldats au cours des trois derniers jours.",
            [(1200, "about", "casualties"), (1350, "about", "casualties"), (1410, "about", "casualties")],
        ),
        (
            "At least 34 civilians, including two children, were killed and 117 wounded.",
            [(34, "at_least", "killed"), (2, "exact", "killed"), (117, "at_least", "wounded")],
        ),
        (
            "Les forces nord-coréennes avaient perdu plus d'un millier d'hommes, dont au moins 200 tués.",
            [(1000, "more_than", "casualties"), (200, "at_least", "killed")],
        ),
        # an approximate count under a bound stays the approximate count ("un millier" is the
        # language's noun for 1,000, and reads as the number)
        ("Au moins une vingtaine de civils ont été tués samedi à Kharkiv.", [("", "vague", "killed")]),
        ("Près d'un millier de soldats russes ont été tués.", [(1000, "about", "killed")]),
        # a verb's reach ends at a comma; a figure's clause ends where a new one begins
        (
            "Of the 9,000 soldiers sent, about 2,500 have been killed or wounded, officials said.",
            [(9000, "exact", "deployed"), (2500, "about", "casualties")],
        ),
        (
            "Sur les 8 000 militaires déployés, quelque 1 500 ont été tués, selon Séoul.",
            [(8000, "exact", "deployed"), (1500, "about", "killed")],
        ),
        (
            'Officials said 5,000 troops were in Belarus, and that "dozens" had been killed.',
            [(5000, "exact", "deployed"), ("", "vague", "killed")],
        ),
        # a part of the figure before counts what it counts, whatever noun follows it
        (
            "Kyiv said Russian losses had reached 900,000 troops since 2022, including 1,250 over the past day.",
            [(900000, "exact", "casualties"), (1250, "exact", "casualties")],
        ),
        (
            "A strike killed 17 people in Odesa, including 3 rescuers.",
            [(17, "exact", "killed"), (3, "exact", "killed")],
        ),
        (
            "L'armée russe a perdu 42 000 hommes en mars, soit une moyenne de 1 350 par jour.",
            [(42000, "exact", "casualties"), (1350, "exact", "casualties")],
        ),
    ],
)
def test_every_figure_with_its_qualifier_and_category(text, expected):
    rows = extract_claims(text, "x.txt")
    assert [(r["value"], r["qualifier"], r["category"]) for _, r in rows.iterrows()] == expected


def test_people_neither_lost_nor_deployed_are_skipped():
    a = parse_article(
        "Deux soldats nord-coréens ont été capturés vivants, a annoncé Volodymyr Zelensky. "
        "« Nous avons évacué plus de 150 000 habitants », a-t-il précisé.",
        "x.txt",
    )
    found = extract_article(a)
    assert found.rows.empty
    assert [s.kind for s in found.skipped] == ["not_a_claim", "not_a_claim"]
    # the size of each wave or group
    a = parse_article("Russian forces attacked in waves of 50 to 80 soldiers, losing 600 killed, Kyiv said.", "x.txt")
    found = extract_article(a)
    assert list(found.rows["value"]) == [600] and [s.kind for s in found.skipped] == ["not_a_claim"]
    # the object of a capture verb, even with a casualty verb later in the sentence
    a = parse_article(
        "L'armée russe affirme avoir capturé 120 soldats ukrainiens et en avoir tué 900 dans la région.", "x.txt"
    )
    found = extract_article(a)
    assert [(r["value"], r["category"]) for _, r in found.rows.iterrows()] == [(900, "killed")]
    assert [s.phrase for s in found.skipped] == ["120"]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 900_000),
    st.integers(2, 900_000),
    st.sampled_from([("environ", "about"), ("au moins", "at_least"), ("plus de", "more_than"), ("près de", "about")]),
    st.sampled_from(["fr_space", "fr_nbsp", "plain", "fr_dot"]),
)
def test_a_qualifier_governs_both_listed_figures(a, b, qualifier, style):
    word, expected = qualifier
    text = (
        f"Selon le NIS, {word} {format_number(a, style)} soldats nord-coréens ont été tués et "
        f"{format_number(b, style)} blessés."
    )
    rows = extract_claims(text, "x.txt")
    assert [(r["value"], r["qualifier"], r["category"]) for _, r in rows.iterrows()] == [
        (a, expected, "killed"),
        (b, expected, "wounded"),
    ]
    assert set(rows["source"]) == {"South Korea National Intelligence Service (NIS)"}
    assert set(rows["population"]) == {"dprk_kursk"}


# --------------------------------------------------------------------------- speakers


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Ukraine's General Staff said on Monday that 1,100 Russian soldiers had been killed, while Russia's "
            "defence ministry said 300 Ukrainian servicemen had died.",
            [(1100, "Ukrainian General Staff", "2024-12-16"), (300, "Russian Ministry of Defence", "2024-12-17")],
        ),
        (
            "Des frappes ont tué 12 personnes à Kherson, a indiqué la Croix-Rouge, tandis que l'armée russe a "
            "affirmé avoir éliminé 400 militaires ukrainiens.",
            [(12, "Croix-Rouge", "2024-12-17"), (400, "Russian Ministry of Defence", "2024-12-17")],
        ),
        # one speaker: the clauses share it
        (
            "Israel's military said it had killed 40 fighters, while 12 soldiers had been wounded.",
            [(40, "Israel's military", "2024-12-17"), (12, "Israel's military", "2024-12-17")],
        ),
    ],
)
def test_each_clause_has_its_own_speaker(text, expected):
    rows = extract_article(parse_article(f"Date: 2024-12-17\n\n{text}\n", "x.txt")).rows
    assert [(r["value"], r["source"], r["reported_on"]) for _, r in rows.iterrows()] == expected


def test_a_party_named_without_a_verb_of_saying_is_not_the_speaker():
    # "l'armée russe" is also the Russian ministry's alias: here it is the army that lost
    text = (
        "Titre : Pokrovsk : l'armée russe aurait perdu 3 000 hommes en une semaine\nDate : 2025-01-10\n\n"
        "Selon l'état-major ukrainien, environ 3 000 soldats russes ont été tués ou blessés en une semaine.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["source"]) == ["Ukrainian General Staff", "Ukrainian General Staff"]
    # a headline's "X: ..." names its speaker
    text = "Title: Pentagon: 8,000 North Korean troops in Russia\nDate: 2024-11-05\n\nNo more was said.\n"
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["source"]) == ["US Department of Defense"]


def test_a_country_as_speaker_is_the_body_of_that_country_named_before():
    text = (
        "Date: 2024-12-10\n\nLe ministère russe de la Défense a affirmé lundi que 500 soldats ukrainiens "
        "avaient été tués.\n\nSelon Moscou, 2 000 autres ont été blessés depuis début décembre.\n\n"
        "Kyiv says 1,500 Russian soldiers were killed on Sunday.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["source"]) == [
        "Russian Ministry of Defence",
        "Russian Ministry of Defence",
        "Ukrainian government",
    ]
    assert "a country named as the speaker" in rows["notes"][1]


@pytest.mark.parametrize(
    "second",
    [
        "Une trentaine d'autres ont été blessés.",
        "Parmi eux figurent 12 enfants.",
        "Among them were 12 children, according to the same count.",
    ],
)
def test_a_figure_that_refers_back_takes_the_period_before(second):
    text = f"Date: 2025-02-10\n\nAu moins 40 civils ont été tués samedi à Kharkiv, selon le gouverneur. {second}\n"
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["period_start"]) == ["2025-02-08", "2025-02-08"]
    assert list(rows["period_end"]) == ["2025-02-08", "2025-02-08"]
    assert "refers back" in rows["notes"][1]


def test_a_new_figure_does_not_take_the_period_before():
    text = "Date: 2025-02-10\n\nAu moins 40 civils ont été tués samedi à Kharkiv. Le bilan de la guerre dépasse 12 000 civils tués.\n"
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["period_start"]) == ["2025-02-08", ""]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Selon l'état-major ukrainien, l'armée russe a perdu respectivement 1 500, 1 420 et 1 610 soldats "
            "les 3, 4 et 5 mars.",
            ["2025-03-03", "2025-03-04", "2025-03-05"],
        ),
        (
            "Ukraine's General Staff said Russia lost 1,500 and 1,420 troops over the past two days.",
            ["2025-03-04", "2025-03-05"],
        ),
    ],
)
def test_figures_listed_over_as_many_days_get_one_day_each(text, expected):
    rows = extract_article(parse_article(f"Date: 2025-03-06\n\n{text}\n", "x.txt")).rows
    assert list(rows["period_start"]) == expected and list(rows["period_end"]) == expected
    # as many figures as days, or the days stay one period
    rows = extract_article(
        parse_article(
            "Date: 2025-03-06\n\nUkraine's General Staff said Russia lost 1,500 "
            "and 1,420 troops over the past three days.\n",
            "x.txt",
        )
    ).rows
    assert list(rows["period_start"]) == ["2025-03-03", "2025-03-03"]


def test_a_total_whose_part_is_another_population_counts_both(tmp_path):
    text = (
        "Date: 2025-01-10\n\nSelon Kiev, Moscou a engagé quelque 45 000 soldats à Koursk, dont 11 000 Nord-Coréens.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["population"]) == ["russia_dprk_kursk", "dprk_kursk"]
    # the same population in the whole and its part: that population
    text = "Date: 2025-01-10\n\nAbout 4,000 North Korean troops were killed or wounded, including 1,000 North Koreans killed.\n"
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["population"]) == ["dprk_kursk", "dprk_kursk"]
    path = tmp_path / "pops.toml"
    path.write_text('[[population]]\nid = "x"\nparts = ["nowhere"]\n', encoding="utf-8")
    with pytest.raises(TableError, match=r"population 'x': `parts` names no population 'nowhere'"):
        load_populations(path)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Au moins 12 civils ont été tués, selon un bilan provisoire du Service national des urgences.",
            "Service national des urgences",
        ),
        (
            "Les forces ukrainiennes ont perdu 300 hommes, a déclaré à l'AFP une source militaire sous couvert d'anonymat.",
            "source militaire",
        ),
        ("Sept civils ont été tués, a affirmé le gouverneur régional, Ivan Ivanov.", "Ivan Ivanov"),
        ('"At least 100 soldiers have been killed," lawmaker Kim Min-soo told reporters.', "Kim Min-soo"),
        ("Plus de 200 personnes ont été tuées, selon des chiffres de la Croix-Rouge.", "Croix-Rouge"),
    ],
)
def test_a_speaker_as_written_is_its_name(text, expected):
    rows = extract_article(parse_article(f"Date: 2025-01-10\n\n{text}\n", "x.txt")).rows
    assert list(rows["source"])[:1] == [expected]


def test_a_country_after_in_is_a_place_and_the_ministry_is_the_last_ministry():
    text = (
        "Date: 2024-11-19\n\nLa mission de surveillance des droits de l'homme de l'ONU en Ukraine a recensé "
        "12 000 civils tués.\n\nLebanon's health ministry said 30 people were killed, as the Israeli military "
        "said it had killed 200 fighters. The ministry says more than 3,000 people have been killed since "
        "October 2023.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["source"]) == [
        "UN Human Rights Monitoring Mission in Ukraine",
        "Lebanon's health ministry",
        "Israeli military",
        "Lebanon's health ministry",
    ]


def test_bulletin_lists_and_ranges_of_one_kind():
    text = (
        "Date: 2025-03-15\n\nThe General Staff of the Armed Forces of Ukraine said total enemy losses were: "
        "personnel ‒ about 898,590 (+1,250) persons, tanks ‒ 10,232 (+6), artillery systems ‒ 25,090 (+41).\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["value"]) == [898590, 1250]
    assert (rows["period_start"][1], rows["period_end"][1]) == ("2025-03-14", "2025-03-14")
    rows = extract_claims("Russian losses since February 2022 rose to 807,190, Kyiv said.", "x.txt")
    assert list(rows["value"]) == [807190]


def test_a_record_since_a_date_is_no_period_and_an_agency_dateline_dates_the_article():
    text = (
        "KHERSON (Ukraine), 10 mars 2025 (AFP) - Les forces russes ont subi en février leurs plus lourdes "
        "pertes depuis le début de la guerre, avec environ 42 000 soldats tués ou blessés, selon Londres.\n"
    )
    a = parse_article(text, "x.txt")
    assert a.meta.date == date(2025, 3, 10)
    rows = extract_article(a).rows
    assert (rows["period_start"][0], rows["period_end"][0]) == ("2025-02-01", "2025-02-28")


@pytest.mark.parametrize(
    "text, expected",
    [
        # a part takes the whole's category, not the next clause's
        (
            "Une frappe a tué au moins 20 civils, dont trois enfants, et en a blessé 60 autres à Kharkiv.",
            [(20, "killed"), (3, "killed"), (60, "wounded")],
        ),
        (
            "L'armée russe a perdu 1 200, 1 300 et 1 250 hommes ces trois derniers jours, soit 3 750 hommes.",
            [(1200, "casualties"), (1300, "casualties"), (1250, "casualties"), (3750, "casualties")],
        ),
    ],
)
def test_categories_of_parts(text, expected):
    rows = extract_claims(text, "x.txt")
    assert [(r["value"], r["category"]) for _, r in rows.iterrows()] == expected


def test_a_figure_that_refers_back_takes_the_category_before():
    text = (
        "Date: 2025-02-16\n\nSyrskyi said on Saturday that Russian and North Korean forces had lost more than "
        "1,500 troops killed and wounded in Kursk over the past week.\n\nAmong them were about 400 North Korean "
        "soldiers, Syrskyi added.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["category"]) == ["casualties", "casualties"]
    assert list(rows["reported_on"]) == ["2025-02-15", "2025-02-15"]  # "added": the same statement
    assert list(rows["period_start"]) == ["2025-02-08", "2025-02-08"]
    assert list(rows["population"]) == ["russia_dprk_kursk", "dprk_kursk"]


def test_a_nationality_after_a_thing_is_no_population():
    rows = extract_claims("Une trentaine de soldats ont été blessés dans des bombardements russes.", "x.txt")
    assert list(rows["population"]) == [""]
    # people killed in a Ukrainian city are its civilians
    rows = extract_claims(
        "Une trentaine de personnes ont été blessées dans des bombardements russes sur Kherson.", "x.txt"
    )
    assert list(rows["population"]) == ["ukraine_civilians"]
    # a country as the subject of a loss names its army
    rows = extract_claims("Russia is losing about 1,500 soldiers a day, a Western official said.", "x.txt")
    assert list(rows["population"]) == ["russia_military"]
    rows = extract_claims("Kyiv's forces lost 300 men, Moscow said.", "x.txt")
    assert list(rows["population"]) == ["ukraine_military"]


def test_the_un_the_outlet_and_titles_as_speakers():
    # "l'ONU" is the UN, unless it continues the figures of one of its bodies
    text = "Date: 2025-04-15\n\nPlus de 400 personnes ont été tuées au Darfour, selon un bilan communiqué mardi par l'ONU.\n"
    assert list(extract_article(parse_article(text, "x.txt")).rows["source"]) == ["United Nations"]
    text = (
        "Date: 2024-11-19\n\nLa mission de surveillance des droits de l'homme des Nations unies en Ukraine a "
        "recensé 12 162 civils tués.\n\nSelon l'ONU, 622 enfants figurent parmi eux.\n"
    )
    assert (
        list(extract_article(parse_article(text, "x.txt")).rows["source"])
        == ["UN Human Rights Monitoring Mission in Ukraine"] * 2
    )
    # the outlet speaking in the first person; a country as a headline's subject is no speaker
    text = (
        "Title: Ukraine: losses mount\nOutlet: Strategy Desk\nDate: 2025-06-03\n\nWe estimate that Russia has "
        "suffered 800,000 casualties since February 2022.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["source"]) == ["Strategy Desk"] and list(rows["population"]) == ["russia_military"]
    text = (
        "Titre : Ukraine : cinq morts à Kharkiv\nDate : 2025-05-06\n\nCinq civils ont été tués, a indiqué "
        "le gouverneur Oleh Synehoubov.\n"
    )
    assert list(extract_article(parse_article(text, "x.txt")).rows["source"]) == ["Oleh Synehoubov"] * 2
    # a title standing for the speaker named before
    text = (
        "Date: 2025-01-20\n\nLe président Volodymyr Zelensky a déclaré dimanche que 300 soldats nord-coréens "
        "avaient été tués.\n\nLe chef de l'État a ajouté que Pyongyang avait perdu 4 000 hommes.\n"
    )
    rows = extract_article(parse_article(text, "x.txt")).rows
    assert list(rows["source"]) == ["Ukrainian President (Volodymyr Zelensky)"] * 2
    assert list(rows["reported_on"]) == ["2025-01-19"] * 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Russia's 2025 losses top 100,000, UK says.", [100000]),
        ("Britain said daily losses were averaging around 1,300 in March.", [1300]),
        ("Au moins neuf personnes, dont un enfant, ont été tuées à Odessa.", [9, 1]),
    ],
)
def test_figures_found_or_not(text, expected):
    assert list(extract_claims(text, "x.txt")["value"]) == expected
