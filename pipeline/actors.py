"""Actors and where a sentence mentions them.

The actor list is data (``configs/actors.yaml``), loaded once into frozen dataclasses and validated
then. Matching runs one combined regular expression over a diacritic-folded copy of the text; the
fold maps every character to exactly one character, so match offsets are offsets into the original.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from typing import Iterable, Sequence

import yaml

from pipeline.errors import UsageError

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class Actor:
    id: str
    name: str
    aliases: tuple[str, ...]
    exclusions: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Mention:
    """One alias match: ``text[start:end] == alias as written in the text``."""

    actor: str
    alias: str
    start: int
    end: int


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


class ActorMatcher:
    """Finds actor mentions in text. Build once per worker; ``find`` is pure."""

    def __init__(self, actors: Sequence[Actor], *, first_word_index: bool = True):
        """``first_word_index=False`` scans with the combined regex alone, without the word checks
        that skip most of it: slower, same matches (the tests hold the two to that)."""
        self.actors = tuple(actors)
        alternatives = []
        self._groups: list[tuple[str, str, bool]] = []  # (actor id, alias, capitalised)
        entries = [(a.id, alias) for a in self.actors for alias in a.aliases]
        # Longest first, so "Turkish forces" wins over "Turkish" at the same position.
        entries.sort(key=lambda e: -len(e[1]))
        for actor_id, alias in entries:
            alternatives.append(f"({_phrase_pattern(alias)})")
            self._groups.append((actor_id, alias, alias != alias.lower()))
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
        words = [_WORD.findall(fold(alias).lower()) for _, alias, _ in self._groups]
        self._key_words = frozenset(max(w, key=len) for w in words) if first_word_index and all(words) else None
        self._exclusions = {}
        for a in self.actors:
            if a.exclusions:
                pattern = "|".join(f"(?:{_phrase_pattern(p)})" for p in sorted(a.exclusions, key=len, reverse=True))
                self._exclusions[a.id] = re.compile(r"(?<!\w)(?:" + pattern + r")(?!\w)", re.IGNORECASE)

    def find(self, text: str) -> list[Mention]:
        folded = fold(text)
        if self._key_words is not None and self._key_words.isdisjoint(_WORD.findall(folded.lower())):
            return []
        mentions = []
        excluded_spans: dict[str, list[tuple[int, int]]] = {}
        for index, start, end in self._matches(folded):
            actor_id, alias, capitalised = self._groups[index]
            if capitalised and text[start:end].islower():
                continue
            if actor_id not in excluded_spans:
                rx = self._exclusions.get(actor_id)
                excluded_spans[actor_id] = [x.span() for x in rx.finditer(folded)] if rx else []
            if any(s <= start and end <= e for s, e in excluded_spans[actor_id]):
                continue
            mentions.append(Mention(actor_id, alias, start, end))
        return mentions

    def _index_first_words(self, alternatives: list[str]) -> dict[str, tuple[re.Pattern, list[int]]] | None:
        """First word of an alias (folded, lowercase) -> (regex of the aliases starting with it, their
        indices in ``self._groups``); None when an alias starts with punctuation."""
        by_word: dict[str, list[int]] = {}
        for index, (_, alias, _) in enumerate(self._groups):
            lead = re.match(r"\w+", fold(alias))
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


def load_actors(path: str) -> list[Actor]:
    """Reads and validates an actors YAML file; a bad entry names the file, actor and key."""
    from apache_beam.io.filesystems import FileSystems

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
    for i, entry in enumerate(doc["actors"]):
        where = f"{path}: line {lines[i]}" if i < len(lines) else f"{path}: actor #{i + 1}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: each actor must be a mapping with keys id, name, aliases")
        unknown = set(entry) - {"id", "name", "aliases", "exclusions"}
        if unknown:
            raise UsageError(f"{where}: unknown key '{sorted(unknown)[0]}' (allowed: id, name, aliases, exclusions)")
        actor_id = entry.get("id")
        if not isinstance(actor_id, str) or not _ID_RE.match(actor_id):
            raise UsageError(f"{where}: key 'id' must be lowercase letters, digits and underscores, got {actor_id!r}")
        if actor_id in seen:
            raise UsageError(f"{where}: key 'id': duplicate actor id {actor_id!r}")
        seen.add(actor_id)
        name = entry.get("name", actor_id)
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{where}: actor {actor_id!r} key 'name' must be a non-empty string")
        aliases = _string_list(entry.get("aliases"), where, actor_id, "aliases", required=True)
        exclusions = _string_list(entry.get("exclusions"), where, actor_id, "exclusions", required=False)
        actors.append(Actor(actor_id, name, tuple(unicodedata.normalize("NFC", a) for a in aliases),
                            tuple(unicodedata.normalize("NFC", e) for e in exclusions)))
    return actors


def _string_list(value, where: str, actor_id: str, key: str, *, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise UsageError(f"{where}: actor {actor_id!r} key '{key}' must be a non-empty list of strings")
    for item in value:
        if not isinstance(item, str) or not item.strip() or not re.search(r"\w", item):
            raise UsageError(f"{where}: actor {actor_id!r} key '{key}' has an invalid entry {item!r}")
    return [item.strip() for item in value]


def _entry_lines(raw: str) -> list[int]:
    """Line numbers (1-based) of the list items under 'actors', for error messages."""
    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
        for key, value in node.value:
            if key.value == "actors" and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
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
