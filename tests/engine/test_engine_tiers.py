"""Crisis tiers and categories: positives in several languages, and the hard negatives.

The phrases here are written for these tests; the labelled evaluation set lives in
tests/data/crisis_eval.tsv and is measured by test_engine_eval.py.
"""

import pytest

from moderation.engine import Tier, assess

IMMINENT = [
    ("en", "I'm going to kill myself tonight, I already have the pills", "suicide"),
    ("en", "just swallowed the whole bottle of my sleeping pills", "suicide"),
    ("en", "this is my last message. goodbye forever", "suicide"),
    ("en", "I cut too deep and it won't stop bleeding", "self_harm"),
    ("de", "Ich will sterben und ich habe die Tabletten schon hier", "suicide"),
    ("fr", "je vais me suicider ce soir, j'ai les cachets", "suicide"),
    ("es", "me quiero matar esta noche, ya tengo las pastillas", "suicide"),
    ("it", "voglio morire, stanotte lo faccio", "suicide"),
    ("pl", "chcę umrzeć, mam już tabletki", "suicide"),
    ("cs", "chci umřít, mám prášky a udělám to dnes v noci", "suicide"),
    ("ro", "vreau să mor, am pastilele pregătite", "suicide"),
    ("nl", "ik wil dood, ik heb de pillen al", "suicide"),
    ("pt", "quero morrer, tenho os comprimidos e vou fazer isso hoje à noite", "suicide"),
    ("xx", "💊💊💊💊 bye", "suicide"),
]

HIGH = [
    ("en", "honestly I just want to die", "suicide"),
    ("en", "everyone would be better off without me", "suicide"),
    ("en", "i keep thinking about ending my life", "suicide"),
    ("en", "relapsed and cut myself again last night", "self_harm"),
    ("en", "I'm going to stab him when he gets home", "harm_others"),
    ("en", "my stepdad hits me when mum is at work", "abuse_disclosure"),
    ("de", "ich möchte nicht mehr leben", "suicide"),
    ("de", "ich ritze mich wieder", "self_harm"),
    ("fr", "j'ai envie de mourir", "suicide"),
    ("es", "ya no quiero vivir", "suicide"),
    ("it", "non voglio più vivere", "suicide"),
    ("pl", "nie chcę już żyć", "suicide"),
    ("cs", "už nechci žít", "suicide"),
    ("ro", "nu mai vreau să trăiesc", "suicide"),
    ("nl", "ik wil niet meer leven", "suicide"),
    ("pt", "não quero mais viver", "suicide"),
    ("en", "kms", "suicide"),
    # Killing someone else is a threat, not the writer's own ideation.
    ("pt", "vou matar ele", "harm_others"),
    ("fr", "je vais tuer mon voisin", "harm_others"),
    ("de", "ich bring ihn um", "harm_others"),
    ("en", "i want to unalive myself", "suicide"),
]

CONCERN = [
    ("en", "my friend says she wants to die", "suicide"),
    ("en", "I think my daughter is cutting herself", "self_harm"),
    ("en", "I feel so hopeless lately", "distress"),
    ("de", "mein bruder will sich umbringen", "suicide"),
    ("es", "mi amiga dice que quiere morir", "suicide"),
    ("en", "I have the pills", "suicide"),
]

HARD_NEGATIVES = [
    ("en", "this homework is killing me"),
    ("en", "I'm dying to see the new film"),
    ("en", "lol im dead 😂"),
    ("en", "have you watched 13 Reasons Why?"),
    ("en", "World Suicide Prevention Day is on the 10th"),
    ("en", "I self-harmed years ago, I've been clean for a long time now"),
    ("en", "I'm not suicidal, just tired"),
    ("en", "I would never kill myself"),
    ("en", "i'd rather die than sing karaoke"),
    ("en", "my mum will kill me if I'm late"),
    ("en", "we got a new climbing rope for the weekend"),
    ("en", "catch the bus at 7 for my appointment"),
    ("de", "ich lach mich tot"),
    ("de", "Tote Mädchen lügen nicht ist eine Serie"),
    ("fr", "je suis morte de rire"),
    ("es", "me muero de risa"),
    ("es", "no quiero morir, solo quiero que pare el dolor"),
    ("it", "sto morendo dal ridere"),
    ("pl", "umieram ze śmiechu"),
    ("cs", "umírám smíchy"),
    ("ro", "mor de râs"),
    ("nl", "ik lach me dood"),
    ("pt", "morri de rir"),
    ("en", "call 116 123 if you need someone to talk to"),
]


@pytest.mark.parametrize(("lang", "text", "category"), IMMINENT)
def test_plan_means_time_or_farewell_is_imminent(lang: str, text: str, category: str) -> None:
    verdict = assess(text, lang=None if lang == "xx" else lang)
    assert verdict.tier is Tier.IMMINENT, verdict
    assert category in verdict.categories


@pytest.mark.parametrize(("lang", "text", "category"), HIGH)
def test_own_ideation_self_harm_threats_and_abuse_are_high(
    lang: str, text: str, category: str
) -> None:
    verdict = assess(text, lang=lang)
    assert verdict.tier is Tier.HIGH, verdict
    assert category in verdict.categories
    if category == "harm_others":
        assert "suicide" not in verdict.categories


@pytest.mark.parametrize(("lang", "text", "category"), CONCERN)
def test_others_at_risk_and_distress_are_concern(lang: str, text: str, category: str) -> None:
    verdict = assess(text, lang=lang)
    assert verdict.tier is Tier.CONCERN, verdict
    assert category in verdict.categories


@pytest.mark.parametrize(("lang", "text"), HARD_NEGATIVES)
def test_idioms_media_past_and_negation_are_never_high(lang: str, text: str) -> None:
    verdict = assess(text, lang=lang)
    assert verdict.tier < Tier.HIGH, verdict


@pytest.mark.parametrize(("lang", "text"), [(lang, text) for lang, text, _ in HIGH])
def test_detection_needs_no_language_hint(lang: str, text: str) -> None:
    assert assess(text).tier >= Tier.HIGH


@pytest.mark.parametrize(
    ("text", "method_detail"),
    [
        ("I took 30 pills", True),
        ("how many pills does it take to die", True),
        ("I want to die", False),
        ("I took 2 paracetamol for my headache", False),
    ],
)
def test_method_detail_marks_graphic_method_details(text: str, method_detail: bool) -> None:
    assert assess(text).method_detail is method_detail


def test_rules_name_the_lexicon_rules_that_fired() -> None:
    verdict = assess("I want to die tonight")
    assert "en.suicide.want_to_die" in verdict.rules
    assert "en.cue.time" in verdict.rules


def test_tiers_compare_by_severity() -> None:
    assert Tier.NONE < Tier.CONCERN < Tier.HIGH < Tier.IMMINENT
    assert max(Tier.HIGH, Tier.CONCERN) is Tier.HIGH
    assert [t.rank for t in Tier] == [0, 1, 2, 3]
    # Names compare too (stored verdicts, room settings); anything else is an error.
    assert Tier.HIGH >= "concern" and Tier.CONCERN < "imminent" and Tier.NONE <= "none"
    with pytest.raises(ValueError, match="not a valid Tier"):
        _ = Tier.HIGH > "urgent"


def test_verdict_to_dict_is_json_ready() -> None:
    data = assess("call me on 07700 900123, I want to die").to_dict()
    assert data["tier"] == "high"
    assert data["categories"] == ["suicide"]
    assert data["norms"] == ["contact_info"]
    assert all(isinstance(s, list) and len(s) == 3 for s in data["spans"])
