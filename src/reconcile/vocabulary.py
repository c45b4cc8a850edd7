"""The extractor's words for people and losses (``reconcile extract``), shared with its tables:
which categories a word names, which nouns make a number a count of people, and which words may
stand between the number and its noun."""

from __future__ import annotations

import re

__all__ = ["CATEGORY_PATTERNS", "PERSON_NOUNS", "NOUN_MODIFIERS", "is_people_word"]

#: category patterns, tried at each position in this order (compounds first)
CATEGORY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("casualties", r"(?:tue|mort|blesse)(?:e?s)?\s+(?:ou|et)\s+(?:tue|mort|blesse)(?:e?s)?"),
    ("casualties", r"(?:killed|dead|wounded|injured)\s+(?:or|and)\s+(?:killed|dead|wounded|injured|missing)"),
    (
        "casualties",
        r"pertes?|victimes?|casualt(?:y|ies)|losses|hors de combat|out of action|"
        r"perdu|perd|perdent|perdrait|perdraient|perdre|lost|lose|loses|losing|"
        r"elimine(?:e|s|es)?|eliminated|neutralise(?:e|s|es)?|neutrali[sz]ed",
    ),
    (
        "killed",
        r"tue(?:e|s|es)?|morte?s?|deces|killed|kills?|dead|deaths?|died|perished|meurent|"
        r"death toll|killing",
    ),
    ("wounded", r"blesse(?:e|s|es)?|wounded|injured|injuries"),
    (
        "deployed",
        r"deploye(?:e|s|es)?|deploiements?|envoye(?:e|s|es)?|mobilise(?:e|s|es)?|"
        r"mobilisant|mobilisation|stationne(?:e|s|es)?|depeche(?:e|s|es)?|"
        r"deployed|deployments?|sent|dispatched|stationed|mobili[sz]ed|"
        r"contingent|renforts?|reinforcements|engage(?:e|s|es)?|presents?|"
        r"strength|effectifs?",
    ),
    # presence: "11,000 troops were in Russia", "des soldats se trouvent en Russie"
    (
        "deployed",
        r"(?:troops|soldiers|forces|men|soldats|troupes|hommes|militaires)\s+"
        r"(?:were|are|remain|remained|sont|etaient|seraient|restent|se trouvent|se trouvaient|"
        r"se trouveraient)\s+(?:(?:deja|still|already|now|encore|toujours)\s+)?(?:in|en|au|aux|inside)",
    ),
)

#: nouns that make a number a count of people (whole token, normal form)
PERSON_NOUNS = (
    r"soldats?|soldiers?|troupes?|troops?|hommes|men|militaires?|combattants?|fighters?|"
    r"personnes?|people|persons|civils|civilians?|ouvriers?|workers?|sapeurs?|sappers?|"
    r"officiers?|officers?|conscrits?|conscripts?|mercenaires?|mercenaries|prisonniers?|"
    r"prisoners?|recrues?|recruits?|membres|members|servicemen|personnel|effectifs|"
    r"militants?|fantassins?|infantrymen|marins?|sailors?|pilotes?|pilots?|reservistes?|"
    r"reservists?|volontaires?|volunteers?|individus|individuals|habitants|residents|"
    r"enfants|children|femmes|women|gardes?|guards?|parachutistes?|paratroopers?|"
    r"commandos?|(?:nord-|sud-)?coreen(?:ne)?s|koreans|ukrainien(?:ne)?s|ukrainians|"
    r"(?:para)?medics?|secouristes?|rescuers?|medecins|doctors?|infirmi(?:er|ere)s|nurses?|soignants|"
    r"journalistes|journalists?|reporters?|policiers|police officers|policemen|pompiers|firefighters?|"
    r"humanitaires|aid workers|employes|employees|staff|eleves|etudiants|students|pupils|patients|"
    r"mineurs|miners|passagers|passengers|bebes|babies|adolescents|teenagers|"
    r"russes|russians|americain(?:e)?s|americans|nord-coreens"
)
#: words allowed between a number and its people noun ("30 North Korean soldiers",
#: "plusieurs milliers d'hommes", "100 ont été tués")
NOUN_MODIFIERS = (
    r"(?:nord-|sud-)?coreen(?:ne)?s?|north|south|korean|ukrainien(?:ne)?s?|ukrainian|"
    r"russes?|russian|americain(?:e)?s?|american|additional|more|other|autres?|"
    r"supplementaires?|nouveaux|nouvelles|new|enemy|ennemis?|civilian|military|regular|"
    r"elite|de|d'|des|du|of|the|ses|leurs|nos|their|its|his|our|ces|these|those|"
    r"ont|ete|sont|etaient|avaient|auraient|seraient|were|have|has|been|had|was|are|"
    r"reportedly|deja|already|entre|eux|elles|them|lesquels|lesquelles|whom|confirmed|confirmes|"
    r"recenses|recorded|documented|identified|identifies|supplementaires|still|encore|deployed|"
    r"could|may|might|would|should|pourraient|pourrait|auraient|aurait|seraient|serait|avoir|etre|be|"
    r"and|et"
)

_CATEGORY_TOKEN_RE = re.compile("|".join(f"(?:{pat})" for _, pat in CATEGORY_PATTERNS if r"\s" not in pat))
_PERSON_RE = re.compile(PERSON_NOUNS)
_MODIFIER_RE = re.compile(NOUN_MODIFIERS)


def is_people_word(tok: str) -> bool:
    """Whether ``tok`` (normal form) names people ("soldats", "civilians") or a loss ("tués")."""
    return _is_people_token(tok) or bool(_MODIFIER_RE.fullmatch(tok))


def _is_people_token(tok: str) -> bool:
    return bool(_PERSON_RE.fullmatch(tok) or _CATEGORY_TOKEN_RE.fullmatch(tok))
