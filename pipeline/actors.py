"""Actors and where an article mentions them.

The actor list is data (``configs/actors.yaml``, or a preset ``configs/actors/<name>.yaml``), loaded
once into frozen dataclasses and validated then. Matching runs one combined regular expression over a
diacritic-folded copy of the text; the fold maps every character to exactly one character, so match
offsets are offsets into the original.

Two kinds of alias. An explicit alias ("Assad", "the Syrian army") mentions its actor wherever it
stands. A context alias ("government forces", "the army", "troops") mentions its actor only in an
article that also names that actor with an explicit alias, as a reader resolves "the army" in a story
about the Syrian army. When several actors named in the article claim the same context word, it goes to
the one named explicitly nearest before it; when none of them is named before it, to nobody. A word
that is an explicit alias of one actor is never a context mention of another.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import unicodedata
from typing import Iterable, NamedTuple, Optional, Sequence

import yaml

from pipeline.errors import UsageError

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class Actor:
    id: str
    name: str
    aliases: tuple[str, ...]
    exclusions: tuple[str, ...] = ()
    context_aliases: tuple[str, ...] = ()  # mention the actor only in an article that names it


@dataclasses.dataclass(frozen=True)
class Mention:
    """One alias match: ``text[start:end] == alias as written in the text``; ``context`` when the
    alias is a context alias, resolved with the rest of the article."""

    actor: str
    alias: str
    start: int
    end: int
    context: bool = False


# Characters whose NFD form does not start with the ASCII letter people type instead.
_SPECIAL_FOLDS = {"ı": "i", "İ": "I", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                  "’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-", "–": "-"}


@functools.lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    if ch in _SPECIAL_FOLDS:
        return _SPECIAL_FOLDS[ch]
    if ch.isascii():
        return ch
    base = unicodedata.normalize("NFD", ch)[0]
    return base if len(base) == 1 else ch


class _FoldTable(dict):
    """``str.translate``'s table, filled in as characters are first seen: after that, folding a
    sentence is one C loop instead of a Python call per character."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Diacritic-insensitive copy of ``text`` with the same length (one character per character)."""
    if text.isascii():
        return text
    return text.translate(_FOLD_TABLE)


def _phrase_pattern(phrase: str) -> str:
    # Any run of spaces or hyphen-likes in the text matches one space in the phrase.
    words = fold(phrase).split()
    return r"[\s\-]+".join(re.escape(w) for w in words)


class _Claim(NamedTuple):
    actor: str
    alias: str  # as written in the actors file
    capitalised: bool
    context: bool


class ActorMatcher:
    """Finds actor mentions in text. Build once per worker; ``find`` and ``find_in_article`` are pure."""

    def __init__(self, actors: Sequence[Actor], *, first_word_index: bool = True):
        """``first_word_index=False`` scans with the combined regex alone, without the word checks
        that skip most of it: slower, same matches (the tests hold the two to that)."""
        self.actors = tuple(actors)
        # One alternative per distinct alias (folded, any case); every actor that lists it claims it.
        claims: dict[str, list[_Claim]] = {}  # lowercased pattern -> claims, in file order
        patterns: dict[str, tuple[str, int]] = {}  # lowercased pattern -> (pattern, alias length)
        for a in self.actors:
            for alias, context in [*((x, False) for x in a.aliases), *((x, True) for x in a.context_aliases)]:
                pattern = _phrase_pattern(alias)
                claims.setdefault(pattern.lower(), []).append(_Claim(a.id, alias, alias != alias.lower(), context))
                patterns.setdefault(pattern.lower(), (pattern, len(alias)))
        # Longest first, so "Turkish forces" wins over "Turkish" at the same position.
        keys = sorted(claims, key=lambda k: -patterns[k][1])
        alternatives = [f"({patterns[k][0]})" for k in keys]
        # An explicit claim wins over context claims of the same words (see the module docstring).
        self._groups: list[tuple[_Claim, ...]] = []
        for k in keys:
            explicit = [c for c in claims[k] if not c.context]
            self._groups.append(tuple(explicit or claims[k]))
        self._regex = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
        # Python's re tries all the alternatives at every position of the text (~100 µs a sentence).
        # Instead, index the aliases by their first word: only positions where a text word equals
        # some alias's first word are tried, with just that word's alternatives, in the same
        # longest-first order, so the matches are exactly the combined regex's.
        self._first_words = self._index_first_words(alternatives) if first_word_index else None
        # Every word of an alias is a whole word of the text wherever the alias matches (the pattern
        # has word boundaries at its ends, and the alias's own non-word characters inside), so a
        # sentence holding no alias's longest word holds no alias: most sentences end here, after
        # one findall.
        words = [_WORD.findall(fold(group[0].alias).lower()) for group in self._groups]
        self._key_words = frozenset(max(w, key=len) for w in words) if first_word_index and all(words) else None
        self._exclusions = {}
        for a in self.actors:
            if a.exclusions:
                pattern = "|".join(f"(?:{_phrase_pattern(p)})" for p in sorted(a.exclusions, key=len, reverse=True))
                self._exclusions[a.id] = re.compile(r"(?<!\w)(?:" + pattern + r")(?!\w)", re.IGNORECASE)

    def find(self, text: str) -> list[Mention]:
        """Mentions in ``text``, read as a whole article (context aliases resolved within it)."""
        return self.find_in_article(text, [(0, len(text))])[0]

    def find_in_article(self, text: str, spans: Sequence[tuple[int, int]]) -> list[list[Mention]]:
        """Mentions in each span (a sentence: start, end) of article ``text``, offsets into ``text``.
        Explicit aliases are matched span by span; context aliases then go to an actor named
        explicitly somewhere in the spans, by the rule in the module docstring."""
        per_span: list[list[Mention]] = []
        pending: list[tuple[int, int, list[Mention]]] = []  # (span, position in it, candidate mentions)
        named: dict[str, list[int]] = {}  # actor -> starts of its explicit mentions, in order
        for n, (s_start, s_end) in enumerate(spans):
            found: list[Mention] = []
            per_span.append(found)
            sentence = text[s_start:s_end]
            folded = fold(sentence)
            lowered = folded.lower()
            if self._key_words is not None and self._key_words.isdisjoint(_WORD.findall(lowered)):
                continue
            excluded_spans: dict[str, list[tuple[int, int]]] = {}
            matches = self._matches(folded)
            if "and" in lowered:  # the only sentences with a coordinated form
                matches = self._with_coordination(folded, list(matches))
            else:
                matches = ((*x, False) for x in matches)
            for index, start, end, coordinated in matches:
                candidates = []
                for claim in self._groups[index]:
                    if coordinated and claim.context:
                        continue
                    if claim.capitalised and sentence[start:end].islower():
                        continue
                    if claim.actor not in excluded_spans:
                        rx = self._exclusions.get(claim.actor)
                        excluded_spans[claim.actor] = [x.span() for x in rx.finditer(folded)] if rx else []
                    if any(s <= start and end <= e for s, e in excluded_spans[claim.actor]):
                        continue
                    candidates.append(Mention(claim.actor, claim.alias, start + s_start, end + s_start, claim.context))
                if candidates and candidates[0].context and found and not found[-1].context:
                    # "Eritrean soldiers", "Turkey's army", "US-backed fighters": the words belong to the
                    # actor that modifies them, if it claims them, and to no other.
                    prev = found[-1]
                    if _MODIFIER_GAP.match(sentence, prev.end - s_start, start):
                        candidates = [m for m in candidates if m.actor == prev.actor]
                if not candidates:
                    continue
                if candidates[0].context:
                    pending.append((n, len(found), candidates))
                    found.append(candidates[0])  # placeholder, settled below
                else:
                    for m in candidates:
                        named.setdefault(m.actor, []).append(m.start)
                    found.extend(candidates)
        if not pending:
            return per_span
        resolved: dict[tuple[int, int], Optional[Mention]] = {}
        for n, i, candidates in pending:
            resolved[n, i] = _resolve(candidates, named)
        for n in sorted({n for n, _, _ in pending}):
            per_span[n] = [resolved.get((n, i), m) for i, m in enumerate(per_span[n])
                           if (n, i) not in resolved or resolved[n, i] is not None]
        return per_span

    def _with_coordination(self, folded: str, matches: list[tuple[int, int, int]]):
        """``matches`` as (index, start, end, False), plus (index, start, end, True) for the first of two
        coordinated words whose alias the second one's noun completes: in "Syrian and Russian air
        forces", "Syrian" stands for the alias "Syrian air forces". Only words no match covers."""
        extra = []
        for m in _COORDINATION.finditer(folded):
            a_start, a_end = m.span(1)
            if any(s < a_end and a_start < e for _, s, e in matches):
                continue
            virtual = folded[a_start:a_end] + " " + folded[m.end():]
            hit = self._regex.match(virtual)
            if hit is not None and hit.end() > a_end - a_start + 1:
                extra.append((hit.lastindex - 1, a_start, a_end))
        if not extra:
            return [(*x, False) for x in matches]
        return sorted([(*x, False) for x in matches] + [(*x, True) for x in extra], key=lambda x: x[1])

    def _index_first_words(self, alternatives: list[str]) -> dict[str, tuple[re.Pattern, list[int]]] | None:
        """First word of an alias (folded, lowercase) -> (regex of the aliases starting with it, their
        indices in ``self._groups``); None when an alias starts with punctuation."""
        by_word: dict[str, list[int]] = {}
        for index, group in enumerate(self._groups):
            lead = re.match(r"\w+", fold(group[0].alias))
            if lead is None:
                return None
            by_word.setdefault(lead.group().lower(), []).append(index)
        return {w: (re.compile(r"(?:" + "|".join(alternatives[i] for i in indices) + r")(?!\w)", re.IGNORECASE), indices)
                for w, indices in by_word.items()}

    def _matches(self, folded: str):
        """(alias index, start, end) of each match of ``self._regex`` in ``folded``, in order; found
        through the first-word index when there is one."""
        if self._first_words is None:
            for m in self._regex.finditer(folded):
                yield m.lastindex - 1, m.start(), m.end()
            return
        end = 0
        for word in _WORD.finditer(folded):
            start = word.start()
            if start < end:
                continue
            entry = self._first_words.get(word.group().lower())
            if entry is None:
                continue
            m = entry[0].match(folded, start)
            if m is not None:
                end = m.end()
                yield entry[1][m.lastindex - 1], start, end


_WORD = re.compile(r"\w+")
# "Syrian and Russian air forces": a word, "and", a second word, then the shared noun.
_COORDINATION = re.compile(r"(?<!\w)(\w+)\s+and\s+\w+\s+(?=\w)", re.IGNORECASE)
# What may stand between an actor's name and the words it modifies: "Eritrean soldiers", "Turkey's
# army", "Russia-backed troops". A bare hyphen joins a pair instead ("the Russia-regime offensive").
_MODIFIER_GAP = re.compile(r"(?:['’]s?)?(?:\s+|[\s\-]+(?:backed|led|allied|aligned|supported|trained|controlled)\s+)\Z",
                           re.IGNORECASE)


def _resolve(candidates: list[Mention], named: dict[str, list[int]]) -> Optional[Mention]:
    """The context mention that stands: of the claimants named explicitly in the article, the only one,
    or else the one named nearest before the word; None when no claimant qualifies."""
    in_article = [m for m in candidates if m.actor in named]
    if len(in_article) <= 1:
        return in_article[0] if in_article else None
    best, best_at = None, -1
    for m in in_article:
        before = [p for p in named[m.actor] if p < m.start]
        if before and before[-1] > best_at:
            best, best_at = m, before[-1]
    return best


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS_DIR = os.path.join(_ROOT, "configs", "actors")
_PRESET_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
KEYS = ("id", "name", "aliases", "context_aliases", "exclusions")


def presets() -> list[str]:
    """Names of the presets in ``configs/actors/`` (``--actors ukraine``)."""
    try:
        return sorted(f[:-5] for f in os.listdir(PRESETS_DIR) if f.endswith(".yaml"))
    except OSError:
        return []


def resolve_actors(value: str) -> str:
    """``--actors`` value -> file path: an existing path as it is, else a preset name's file."""
    if "/" in value or "\\" in value or value.endswith((".yaml", ".yml")) or not _PRESET_RE.match(value):
        return value
    preset = os.path.join(PRESETS_DIR, value + ".yaml")
    if os.path.exists(preset) or not os.path.exists(value):
        if not os.path.exists(preset):
            raise UsageError(f"no actors preset or file {value!r} (presets: {', '.join(presets()) or 'none'})")
        return preset
    return value


def load_actors(path: str) -> list[Actor]:
    """Reads and validates an actors YAML file, or a preset by name; a bad entry names the file, line,
    actor and key."""
    from apache_beam.io.filesystems import FileSystems

    path = resolve_actors(path)
    try:
        with FileSystems.open(path) as f:
            raw = f.read().decode("utf-8")
    except Exception as exc:  # Beam wraps not-found errors in several types
        raise UsageError(f"cannot read actors file {path}: {_first_line(exc)}") from None
    return parse_actors(raw, path)


def parse_actors(raw: str, path: str = "<actors>") -> list[Actor]:
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        raise UsageError(f"{path}:{where} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("actors"), list) or not doc["actors"]:
        raise UsageError(f"{path}: expected a top-level key 'actors' holding a non-empty list")
    lines = _entry_lines(raw)
    actors, seen = [], set()
    explicit_owner: dict[str, str] = {}  # folded alias -> the first actor listing it explicitly
    for i, entry in enumerate(doc["actors"]):
        at = lines[i] if i < len(lines) else _Lines(None)
        where = at.where(path, i)
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: each actor must be a mapping with keys id, name, aliases")
        unknown = set(entry) - set(KEYS)
        if unknown:
            key = sorted(unknown)[0]
            raise UsageError(f"{where}: unknown key '{key}' (allowed: {', '.join(KEYS)})")
        actor_id = entry.get("id")
        if not isinstance(actor_id, str) or not _ID_RE.match(actor_id):
            raise UsageError(f"{at.where(path, i, 'id')}: key 'id' must be lowercase letters, digits and "
                             f"underscores, got {actor_id!r}")
        if actor_id in seen:
            raise UsageError(f"{at.where(path, i, 'id')}: key 'id': duplicate actor id {actor_id!r}")
        seen.add(actor_id)
        name = entry.get("name", actor_id)
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{at.where(path, i)}: actor {actor_id!r} key 'name' must be a non-empty string")
        lists = {key: _string_list(entry.get(key), at, path, i, actor_id, key, required=key == "aliases")
                 for key in ("aliases", "context_aliases", "exclusions")}
        # The same words twice in one actor, or as explicit and context alias, is a slip worth a line.
        first_seen: dict[str, str] = {}
        for key in ("aliases", "context_aliases"):
            for j, alias in enumerate(lists[key]):
                folded = " ".join(fold(alias).lower().replace("-", " ").split())
                if folded in first_seen:
                    raise UsageError(f"{at.where(path, i, key, j)}: actor {actor_id!r} key '{key}': {alias!r} is "
                                     f"already listed in '{first_seen[folded]}'")
                first_seen[folded] = key
                if key == "aliases":
                    explicit_owner.setdefault(folded, actor_id)
        actors.append(Actor(actor_id, name.strip(), *(tuple(unicodedata.normalize("NFC", a) for a in lists[k])
                                                        for k in ("aliases", "exclusions", "context_aliases"))))
    # A context alias that another actor lists as explicit never counts: the explicit one wins.
    for i, actor in enumerate(actors):
        for j, alias in enumerate(actor.context_aliases):
            owner = explicit_owner.get(" ".join(fold(alias).lower().replace("-", " ").split()))
            if owner is not None and owner != actor.id:
                at = lines[i] if i < len(lines) else _Lines(None)
                raise UsageError(f"{at.where(path, i, 'context_aliases', j)}: actor {actor.id!r} key "
                                 f"'context_aliases': {alias!r} is an explicit alias of {owner!r}, so it "
                                 f"could never count as a context mention")
    return actors


def _string_list(value, at: "_Lines", path: str, i: int, actor_id: str, key: str, *, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise UsageError(f"{at.where(path, i)}: actor {actor_id!r} key '{key}' must be a non-empty list of strings")
    for j, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or not re.search(r"\w", item):
            raise UsageError(f"{at.where(path, i, key, j)}: actor {actor_id!r} key '{key}' has an invalid entry {item!r}")
    return [item.strip() for item in value]


class _Lines:
    """Where an actor entry, its keys and their list items stand in the file (1-based lines)."""

    def __init__(self, node):
        self.entry = node.start_mark.line + 1 if node is not None else None
        self.keys: dict[str, int] = {}
        self.items: dict[tuple[str, int], int] = {}
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    self.keys[key.value] = key.start_mark.line + 1
                    if isinstance(value, yaml.SequenceNode):
                        for j, item in enumerate(value.value):
                            self.items[key.value, j] = item.start_mark.line + 1

    def where(self, path: str, i: int, key: str | None = None, item: int | None = None) -> str:
        line = self.items.get((key, item)) or self.keys.get(key) or self.entry
        return f"{path}: line {line}" if line else f"{path}: actor #{i + 1}"


def _entry_lines(raw: str) -> list[_Lines]:
    """Line numbers of the list items under 'actors' and of their keys, for error messages."""
    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
        for key, value in node.value:
            if key.value == "actors" and isinstance(value, yaml.SequenceNode):
                return [_Lines(item) for item in value.value]
    except Exception:
        pass
    return []


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def mentions_by_actor(mentions: Iterable[Mention]) -> dict[str, list[Mention]]:
    grouped: dict[str, list[Mention]] = {}
    for m in mentions:
        grouped.setdefault(m.actor, []).append(m)
    return grouped
