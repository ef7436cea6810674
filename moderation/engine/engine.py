"""The engine: lexicons compiled once, then ``assess`` and ``assess_window`` per message."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cache import CompileCache, default_cache_dir
from .lexicon import (
    COMMON_LANG,
    DEFAULT_LEXICON_DIR,
    Hit,
    Lexicon,
    Matcher,
    Rule,
    load_lexicons,
)
from .normalize import Normalised, normalise, warm_up
from .norms import NormChecker, NormsData, load_norms_data, region_for_language
from .prefilter import AnchorFilter, Unfiltered
from .types import Span, Tier, Verdict

_SELF_CATEGORIES = frozenset({"suicide", "self_harm"})
_WINDOW_CATEGORIES = frozenset({"suicide", "self_harm", "distress"})
_SENTENCE_BREAK = "."
_CLAUSE_BREAKS = ".,:"
_SUBJECTS = frozenset({"first_person", "third_person"})
_QUALIFIERS = frozenset({"past", "hypothetical", "laughter"})


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the engine needs; nothing is read from settings or globals.

    ``lexicons`` (already loaded) wins over ``lexicon_dir``. ``languages``
    restricts which lexicon files are loaded (the language-independent one is
    always loaded). ``helplines`` are digit strings that are never contact info;
    ``None`` takes them from ``norms.toml`` in the lexicon directory.
    ``cache_dir`` keeps compiled matchers between processes (see ``cache``);
    ``None`` compiles every time. ``gated_scans`` lets Hyperscan tell the crisis
    and norm scans where a match can start (see ``gate``): the same verdicts, faster
    on long messages, for a slower first compile.
    """

    lexicon_dir: Path | None = None
    lexicons: tuple[Lexicon, ...] | None = None
    languages: tuple[str, ...] | None = None
    max_length: int = 4000
    shouting_min_letters: int = 15
    shouting_ratio: float = 0.7
    helplines: frozenset[str] | None = None
    allowed_domains: frozenset[str] | None = None
    phone_regions: tuple[str, ...] | None = None
    negation_window: int = 2
    subject_window: int = 10
    window_messages: int = 5
    cache_dir: Path | None = None
    gated_scans: bool = True


@dataclass(slots=True)
class _Signal:
    hit: Hit
    tier: Tier
    own: bool
    span: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class _Analysis:
    """What one message contains, before it is summarised into a ``Verdict``."""

    norm: Normalised
    mask: int
    """Which matchers may match (see ``AnchorFilter``)."""
    signals: list[_Signal] = field(default_factory=list)
    cues: list[Hit] = field(default_factory=list)
    suppressors: list[Hit] = field(default_factory=list)
    norm_hits: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    idiom_only: bool = False

    def cue_kinds(self) -> set[str]:
        return {c.rule.category for c in self.cues}

    def own_signals(self, categories: frozenset[str]) -> list[_Signal]:
        return [s for s in self.signals if s.own and s.hit.rule.category in categories]


@dataclass(frozen=True, slots=True)
class Reading:
    """One message read on its own (``Engine.read``): its verdict, and what
    ``assess_window`` needs to weigh it with the writer's earlier messages.

    A server reads a message once to choose how urgently to handle it, then passes
    the reading to ``assess_window`` so that the message is not analysed twice.
    """

    text: str
    lang: str | None
    verdict: Verdict
    engine: Engine = field(repr=False, compare=False)
    analysis: _Analysis = field(repr=False, compare=False)


class Engine:
    """A configured moderation engine; build once, share between threads."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        directory = self.config.lexicon_dir or DEFAULT_LEXICON_DIR
        cache = CompileCache(self.config.cache_dir) if self.config.cache_dir else None
        lexicons = self.config.lexicons
        if lexicons is None:
            lexicons = load_lexicons(directory, self.config.languages, cache)
        self.lexicons: tuple[Lexicon, ...] = lexicons
        rules = [rule for lexicon in lexicons for rule in lexicon.rules]
        # Signals get their own matcher so that a cue or norm pattern starting at
        # the same place can never hide a signal (one regex reports one match per
        # position); inside it each tier has its own trie, highest first.
        gated = self.config.gated_scans
        self._signals = Matcher([r for r in rules if r.kind == "signal"], cache, gated=gated)
        # Time and means words only matter next to a signal or an action cue, so
        # their (large) matcher runs only then.
        self._cues_norms = Matcher(
            [
                r
                for r in rules
                if r.kind == "norm" or (r.kind == "cue" and r.category in _ACTION_CUES)
            ],
            cache,
            gated=gated,
        )
        self._passive_cues = Matcher(
            [r for r in rules if r.kind == "cue" and r.category not in _ACTION_CUES],
            cache,
            gated=gated,
        )
        self._suppressors = Matcher(
            [r for r in rules if r.kind == "suppressor"], cache, gated=gated
        )
        # Context cues (negation, subjects, past) are matched per language: the
        # same word is a cue in several languages ("nie", "no"), and one merged
        # regex would report only one language's reading of it.
        context_langs = sorted({r.lang for r in rules if r.kind == "context"})
        self._context_by_lang: dict[str, Matcher] = {
            code: Matcher(
                [r for r in rules if r.kind == "context" and r.lang == code], cache, gated=gated
            )
            for code in context_langs
        }
        matchers = [
            self._signals,
            self._cues_norms,
            self._passive_cues,
            self._suppressors,
            *self._context_by_lang.values(),
        ]
        self._bits = {matcher: 1 << index for index, matcher in enumerate(matchers)}
        self._prefilter = self._anchor_filter(lambda m: m.gated)
        data = self._norms_data(directory)
        self._norms = NormChecker(
            data,
            max_length=self.config.max_length,
            shouting_min_letters=self.config.shouting_min_letters,
            shouting_ratio=self.config.shouting_ratio,
            gated=gated,
            cache=cache,
        )
        warm_up(self.config.cache_dir)
        if cache is not None:
            # Reading compiled matchers from a warm cache is cheap, and a cold one is
            # filled now: an engine with a cache is ready when it is built.
            self.prepare()

    def _norms_data(self, directory: Path) -> NormsData:
        path = directory / "norms.toml"
        if not path.exists():
            path = DEFAULT_LEXICON_DIR / "norms.toml"
        data = load_norms_data(path)
        c = self.config
        return NormsData(
            helplines=data.helplines if c.helplines is None else frozenset(c.helplines),
            phone_regions=data.phone_regions if c.phone_regions is None else c.phone_regions,
            tlds=data.tlds,
            word_tlds=data.word_tlds,
            allowed_domains=(
                data.allowed_domains if c.allowed_domains is None else c.allowed_domains
            ),
        )

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the languages whose lexicons are loaded."""
        return tuple(lexicon.lang for lexicon in self.lexicons)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Return every loaded rule."""
        return tuple(rule for lexicon in self.lexicons for rule in lexicon.rules)

    # --- public API ----------------------------------------------------------

    def prepare(self) -> None:
        """Compile every matcher now rather than when a message first needs it.

        A server calls this before it takes traffic, so that no message waits for
        a compilation (several seconds of CPU for all lexicons and their gates, a
        fraction of a second from a warm cache). ``default_engine`` does it; an
        engine with a ``cache_dir`` does it when built.
        """
        # Hyperscan's compiler (most of the time, see ``gate``) releases the GIL, so
        # matchers compile side by side on a machine with several cores.
        matchers = sorted(self._bits, key=lambda m: len(m.rules), reverse=True)
        tasks = [*(m.prepare for m in matchers), self._norms.prepare]
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            for _ in pool.map(lambda task: task(), tasks):
                pass
        if any(m.gated and not m.has_gate() for m in self._bits):
            # Hyperscan refused a matcher's patterns: rather than scan every message
            # with it, let the prefilter say when it can match.
            self._prefilter = self._anchor_filter(lambda m: m.gated and m.has_gate())

    def _anchor_filter(self, gated: Callable[[Matcher], bool]) -> AnchorFilter:
        """Return the prefilter over the matchers without a gate.

        Most messages contain no literal that any crisis or norm rule needs: one
        Aho-Corasick pass over the anchors tells which matchers can be skipped. A gate
        already tells where a matcher's matches can start, in one Hyperscan pass that
        costs less than the Aho-Corasick one, so gated matchers are always scanned.
        """
        return AnchorFilter([Unfiltered() if gated(m) else m for m in self._bits])

    def assess(self, text: str, *, lang: str | None = None) -> Verdict:
        """Assess one message on its own."""
        analysis = self._analyse(text, lang)
        return self._verdict(analysis, lang)

    def read(self, text: str, *, lang: str | None = None) -> Reading:
        """Assess one message on its own, keeping the analysis for ``assess_window``."""
        analysis = self._analyse(text, lang)
        return Reading(text, lang, self._verdict(analysis, lang), self, analysis)

    def assess_window(
        self,
        previous_texts: Sequence[str],
        text: str,
        *,
        lang: str | None = None,
        reading: Reading | None = None,
    ) -> Verdict:
        """Assess ``text`` in the light of the same writer's previous messages (oldest first).

        Weaker signals add up: hopelessness earlier and "I have the pills" now is
        imminent; several concerns with suicidal content are high. A message
        whose only crisis words are an idiom is never raised. ``reading``, from
        ``read(text, lang=lang)`` on this engine, saves analysing ``text`` again;
        a reading of another text, language or engine is ignored.
        """
        if (
            reading is not None
            and reading.engine is self
            and reading.text == text
            and reading.lang == lang
        ):
            current, verdict = reading.analysis, reading.verdict
        else:
            current = self._analyse(text, lang)
            verdict = self._verdict(current, lang)
        if current.idiom_only or verdict.tier is Tier.IMMINENT:
            return verdict
        if not current.signals and not current.cues:
            # A lone time word ("tonight") matters after earlier ideation, so look
            # for time cues here too; still, most chat has nothing at all. (On a
            # copy: a reading's analysis is never changed.)
            current = replace(current, cues=self._scan(self._passive_cues, current))
            if not current.cues:
                return verdict
        recent = list(previous_texts)[-self.config.window_messages :]
        if not recent:
            return verdict
        earlier = [self._analyse(t, lang) for t in recent]
        return self._escalate(verdict, current, earlier)

    def match_rule_ids(self, text: str) -> set[str]:
        """Return the ids of every rule whose pattern matches ``text`` (for lexicon tests).

        The matchers are reached through the prefilter, as ``assess`` reaches them.
        """
        analysis = _Analysis(norm=normalise(text), mask=0)
        analysis.mask = self._prefilter.candidates(analysis.norm.text)
        return {h.rule.id for m in self._bits for h in self._scan(m, analysis)}

    def _scan(self, matcher: Matcher, analysis: _Analysis) -> list[Hit]:
        """Return the hits of ``matcher`` in the message, unless the prefilter ruled it out."""
        if analysis.mask & self._bits[matcher]:
            return matcher.finditer(analysis.norm.text)
        return []

    # --- analysis ------------------------------------------------------------

    def _analyse(self, text: str, lang: str | None) -> _Analysis:
        norm = normalise(text)
        s = norm.text
        analysis = _Analysis(norm=norm, mask=self._prefilter.candidates(s))
        signals = self._scan(self._signals, analysis)
        for hit in self._scan(self._cues_norms, analysis):
            if hit.rule.kind == "cue":
                analysis.cues.append(hit)
            else:
                start, end = norm.to_original(hit.start, hit.end)
                analysis.norm_hits.append((hit.rule.category, start, end, hit.rule.id))
        for norm_hit in self._norms.check(text, region_hint=region_for_language(lang)):
            analysis.norm_hits.append((norm_hit.norm, norm_hit.start, norm_hit.end, None))
        if not signals and not any(c.rule.category in _ACTION_CUES for c in analysis.cues):
            # A time or means word alone changes nothing; skip the context work.
            return analysis

        analysis.cues.extend(self._scan(self._passive_cues, analysis))
        suppressors = self._scan(self._suppressors, analysis)
        # Grammar cues are needed only for the languages in play: the hint and
        # the languages of the rules that matched (a Portuguese "me corto" may
        # have matched the Spanish rule; the Portuguese cues still apply when a
        # Portuguese cue or signal matched too).
        wanted = {h.rule.lang for h in signals} | {c.rule.lang for c in analysis.cues}
        wanted |= {COMMON_LANG} | ({lang} if lang else set())
        if wanted == {COMMON_LANG}:
            wanted = set(self._context_by_lang)  # slang or emoji only: language unknown
        by_lang = {
            code: self._scan(m, analysis)
            for code, m in self._context_by_lang.items()
            if code in wanted
        }
        message_langs = _message_languages(by_lang, lang)
        contexts: dict[str, list[Hit]] = {}

        def context_for(rule: Rule) -> list[Hit]:
            # The rule's own language first, then the others sorted: when two
            # languages read one word differently ("je" is "I" in French, "you" in
            # Dutch), the rule's language wins, and never the order of a set.
            # Built once per language of the message's hits (callers only read it).
            context = contexts.get(rule.lang)
            if context is None:
                others = sorted((message_langs | {COMMON_LANG}) - {rule.lang})
                context = [h for code in (rule.lang, *others) for h in by_lang.get(code, ())]
                contexts[rule.lang] = context
            return context

        cues_kept = []
        for cue in analysis.cues:
            blocker = _overlapping(cue, suppressors)
            if blocker is None and not self._negated(cue, context_for(cue.rule), s):
                cues_kept.append(cue)
        analysis.cues = cues_kept
        suppressed_any = False
        for hit in signals:
            context = context_for(hit.rule)
            blocker = _overlapping(hit, suppressors)
            if blocker is not None:
                analysis.suppressors.append(blocker)
                suppressed_any = True
                continue
            if hit.rule.negatable:
                negation = self._negated(hit, context, s)
                if negation is not None:
                    analysis.suppressors.append(negation)
                    continue
            own = hit.rule.person != "other"
            if hit.rule.person == "any" and self._subject(hit, context, s) == "third_person":
                own = False
            tier = hit.rule.tier
            past = self._past(hit, context, s)
            if not own or past is not None:
                tier = min(tier, Tier.CONCERN)
                if past is not None:
                    own = False
                    analysis.suppressors.append(past)
            analysis.signals.append(_Signal(hit, tier, own))
        analysis.idiom_only = suppressed_any and not analysis.signals
        for signal in analysis.signals:
            signal.span = norm.to_original(signal.hit.start, signal.hit.end)
        return analysis

    def _negated(self, hit: Hit, context: list[Hit], s: str) -> Hit | None:
        """Return the negation cue that governs ``hit``, if any.

        The cue must start before the hit, in the same clause, at most
        ``negation_window`` words away. A subject between them starts a new
        clause ("I'm not ok I want to die" is not negated). A cue may overlap the
        start of the hit ("I don't think I'm suicidal").
        """
        for cue in context:
            if cue.rule.category != "negation" or cue.start >= hit.start or cue.end > hit.end:
                continue
            between = s[cue.end : hit.start]
            if any(b in between for b in _CLAUSE_BREAKS):
                continue
            words_between = len(between.split())
            if words_between > self.config.negation_window:
                continue
            if any(
                c.rule.category in _SUBJECTS
                and cue.end <= c.start <= hit.start
                and (c.start < hit.start or words_between > 0)
                for c in context
            ):
                # A subject after the negation starts a new clause; a clitic right
                # after it ("não me corto") does not.
                continue
            return cue
        return None

    def _subject(self, hit: Hit, context: list[Hit], s: str) -> str | None:
        """Return ``first_person`` or ``third_person`` for the nearest subject before ``hit``."""
        best: Hit | None = None
        for cue in context:
            if cue.rule.category not in ("first_person", "third_person"):
                continue
            # Only a subject before the words, or one they start with ("I want
            # to die"), counts; "letters for my mum" inside a hit is an object.
            if cue.start > hit.start:
                continue
            if cue.end <= hit.start:
                between = s[cue.end : hit.start]
                if _SENTENCE_BREAK in between:
                    continue
                if len(between.split()) > self.config.subject_window:
                    continue
            if best is None or cue.start > best.start:
                best = cue
        return best.rule.category if best else None

    def _past(self, hit: Hit, context: list[Hit], s: str) -> Hit | None:
        """Return a marker that the words are not a current state of the writer.

        A distant-past marker ("years ago", "used to") or a reported question
        ("she asked if I ...") anywhere in the sentence, or laughter right after
        the words ("... lol", "😂"), qualifies the signal.
        """
        start = s.rfind(_SENTENCE_BREAK, 0, hit.start) + 1
        end = s.find(_SENTENCE_BREAK, hit.end)
        end = len(s) if end < 0 else end
        for cue in context:
            kind = cue.rule.category
            if kind not in _QUALIFIERS:
                continue
            if kind == "laughter":
                gap = s[hit.end : cue.start]
                if hit.end <= cue.start and len(gap.split()) <= 4 and _SENTENCE_BREAK not in gap:
                    return cue
                continue
            if cue.start >= start and cue.end <= end:
                return cue
        return None

    # --- verdicts ------------------------------------------------------------

    def _verdict(self, analysis: _Analysis, lang: str | None) -> Verdict:
        if not (analysis.signals or analysis.cues or analysis.suppressors or analysis.norm_hits):
            return _EMPTY_VERDICT  # most chat: nothing to report
        tier = Tier.NONE
        categories: set[str] = set()
        spans: list[Span] = []
        rules: list[str] = []
        for signal in analysis.signals:
            tier = max(tier, signal.tier)
            categories.add(signal.hit.rule.category)
            spans.append(Span(*signal.span, signal.hit.rule.category))
            rules.append(signal.hit.rule.id)

        escalation = _cue_escalation(analysis, analysis.cues, analysis.signals)
        if escalation is not None:
            new_tier, category, cues = escalation
            if new_tier > tier:
                tier = new_tier
            categories.add(category)
            for cue in cues:
                spans.append(Span(*analysis.norm.to_original(cue.start, cue.end), category))
                rules.append(cue.rule.id)
        rules.extend(h.rule.id for h in analysis.suppressors)

        norms: set[str] = set()
        for name, start, end, rule_id in analysis.norm_hits:
            norms.add(name)
            spans.append(Span(start, end, name))
            if rule_id:
                rules.append(rule_id)

        method_detail = tier is not Tier.NONE and _method_detail(analysis)
        return Verdict(
            tier=tier,
            categories=frozenset(categories),
            norms=frozenset(norms),
            spans=tuple(sorted(set(spans))),
            rules=_ordered_rules(rules, lang),
            method_detail=method_detail,
        )

    def _escalate(self, verdict: Verdict, current: _Analysis, earlier: list[_Analysis]) -> Verdict:
        """Raise ``verdict`` when earlier messages and this one add up."""
        tier = verdict.tier
        categories = set(verdict.categories)
        rules = list(verdict.rules)
        spans = list(verdict.spans)
        earlier_own = [s for a in earlier for s in a.own_signals(_WINDOW_CATEGORIES)]
        earlier_means = [c for a in earlier for c in a.cues if c.rule.category in _ACTION_CUES]
        current_own = current.own_signals(_WINDOW_CATEGORIES)

        def add(new_tier: Tier, signals: Iterable[_Signal], cues: Iterable[Hit]) -> None:
            nonlocal tier
            tier = max(tier, new_tier)
            for signal in signals:
                categories.add(signal.hit.rule.category)
                rules.append(signal.hit.rule.id)
            for cue in cues:
                rules.append(cue.rule.id)

        means_now = [c for c in current.cues if c.rule.category in _ACTION_CUES]
        time_now = [c for c in current.cues if c.rule.category == "time"]
        if means_now and earlier_own:
            # Hopelessness or ideation, then "I have the pills": a plan with means.
            add(Tier.IMMINENT, earlier_own, means_now)
            categories.add(_dominant_category(earlier_own))
        high_earlier = [
            s
            for s in earlier_own
            if s.hit.rule.category in _SELF_CATEGORIES and s.tier >= Tier.HIGH
        ]
        if time_now and high_earlier and not current.signals:
            add(Tier.IMMINENT, high_earlier, time_now)
        high_now = [
            s
            for s in current_own
            if s.hit.rule.category in _SELF_CATEGORIES and s.tier >= Tier.HIGH
        ]
        if high_now and earlier_means:
            add(Tier.IMMINENT, high_now, earlier_means)
        if tier < Tier.HIGH and current_own:
            concerned = [a for a in earlier if a.own_signals(_WINDOW_CATEGORIES)]
            pool = earlier_own + current_own
            if len(concerned) + 1 >= 3 and any(s.hit.rule.category == "suicide" for s in pool):
                add(Tier.HIGH, pool, ())
                categories.add("suicide")
        if tier == verdict.tier and categories == set(verdict.categories):
            return verdict
        for cue in means_now + time_now:
            start, end = current.norm.to_original(cue.start, cue.end)
            spans.append(Span(start, end, _dominant_category(earlier_own or current_own)))
        return Verdict(
            tier=tier,
            categories=frozenset(categories),
            norms=verdict.norms,
            spans=tuple(sorted(set(spans))),
            rules=tuple(dict.fromkeys(rules)),
            method_detail=verdict.method_detail or _method_detail(current),
        )


_EMPTY_VERDICT = Verdict()
_MEANS_CUES = frozenset({"possession", "dose"})
_ACTION_CUES = frozenset({"possession", "dose", "plan", "farewell"})


def _message_languages(by_lang: dict[str, list[Hit]], hint: str | None) -> set[str]:
    """Return the languages whose grammar cues apply to this message.

    The hint decides when it names a loaded language; otherwise the languages
    with the most context-cue hits (pronouns, negations) win, all of them on a tie.
    """
    if hint and hint in by_lang:
        return {hint}
    counts = {code: len(hits) for code, hits in by_lang.items() if code != COMMON_LANG}
    best = max(counts.values(), default=0)
    if best == 0:
        return set(counts)
    return {code for code, n in counts.items() if n == best}


def _overlapping(hit: Hit, others: Sequence[Hit]) -> Hit | None:
    for other in others:
        if other.start < hit.end and hit.start < other.end:
            return other
    return None


def _dominant_category(signals: Sequence[_Signal]) -> str:
    categories = {s.hit.rule.category for s in signals}
    for category in ("suicide", "self_harm", "distress"):
        if category in categories:
            return category
    return "suicide"


def _cue_escalation(
    analysis: _Analysis, cues: Sequence[Hit], signals: Sequence[_Signal]
) -> tuple[Tier, str, list[Hit]] | None:
    """Return the tier that cues give together with the signals of the same message.

    Means in hand (possession, an amount) or a stated intention to act ("I'll do
    it") together with the writer's own suicidal, self-harm or hopeless words is a
    plan: imminent. A time ("tonight") raises own ideation to imminent. Means
    and a time or an intention together are a plan even without ideation words.
    Possession alone ("I have the pills") is only a concern: it may be about
    medication.
    """
    if not cues:
        return None
    means = [c for c in cues if c.rule.category in _MEANS_CUES]
    plans = [c for c in cues if c.rule.category == "plan"]
    times = [c for c in cues if c.rule.category == "time"]
    possession = [c for c in means if c.rule.category == "possession"]
    own = [s for s in signals if s.own and s.hit.rule.category in _WINDOW_CATEGORIES]
    own_high = [s for s in own if s.hit.rule.category in _SELF_CATEGORIES and s.tier >= Tier.HIGH]
    if (means or plans) and own:
        return Tier.IMMINENT, _dominant_category(own), means + plans
    if times and own_high:
        return Tier.IMMINENT, _dominant_category(own_high), times
    if possession and (times or plans):
        return Tier.IMMINENT, "suicide", possession + times + plans
    farewells = [c for c in cues if c.rule.category == "farewell"]
    if farewells and (times or plans or means or own):
        # "Goodbye everyone" with a when or a how is an indirect farewell.
        return Tier.IMMINENT, "suicide", farewells + times + plans + means
    if possession and not signals:
        return Tier.CONCERN, "suicide", possession
    if farewells and not signals:
        return Tier.CONCERN, "suicide", farewells
    return None


def _method_detail(analysis: _Analysis) -> bool:
    if any(s.hit.rule.method_detail for s in analysis.signals):
        return True
    kinds = analysis.cue_kinds()
    return "dose" in kinds and bool(kinds & {"means", "possession"} or analysis.signals)


def _ordered_rules(rules: Sequence[str], lang: str | None) -> tuple[str, ...]:
    unique = list(dict.fromkeys(rules))
    if lang:
        # The hint only orders results: rules of the hinted language come first.
        prefix = f"{lang}."
        unique.sort(key=lambda r: not r.startswith(prefix))
    return tuple(unique)


# --- the default engine -------------------------------------------------------

_default_engine: Engine | None = None
_default_lock = threading.Lock()


def load_engine(
    lexicon_dir: Path | str | None = None,
    *,
    languages: Iterable[str] | None = None,
    **options: object,
) -> Engine:
    """Build an engine from a lexicon directory; ``options`` are ``EngineConfig`` fields."""
    config = EngineConfig(
        lexicon_dir=Path(lexicon_dir) if lexicon_dir is not None else None,
        languages=tuple(languages) if languages is not None else None,
        **options,  # type: ignore[arg-type]
    )
    return Engine(config)


def default_engine() -> Engine:
    """Return the shared engine with the bundled lexicons, built on first use.

    It is returned fully compiled (``prepare``): the messages it assesses include
    crisis messages, and none of them may wait for a matcher to compile.
    """
    global _default_engine
    engine = _default_engine
    if engine is not None:
        return engine
    with _default_lock:
        if _default_engine is None:
            engine = Engine(EngineConfig(cache_dir=default_cache_dir()))
            engine.prepare()
            _default_engine = engine
        return _default_engine


def assess(text: str, *, lang: str | None = None) -> Verdict:
    """Assess one message with the default engine."""
    return default_engine().assess(text, lang=lang)


def read(text: str, *, lang: str | None = None) -> Reading:
    """Read one message with the default engine (see ``Engine.read``)."""
    return default_engine().read(text, lang=lang)


def assess_window(
    previous_texts: Sequence[str],
    text: str,
    *,
    lang: str | None = None,
    reading: Reading | None = None,
) -> Verdict:
    """Assess a message with the writer's previous messages, using the default engine."""
    return default_engine().assess_window(previous_texts, text, lang=lang, reading=reading)
