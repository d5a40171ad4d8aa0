"""Report: the tables of a finished run -> ``OUTPUT/report/index.html`` with PNG charts.

One page a person opens in a browser, with nothing fetched from the network (matplotlib draws the
charts with the Agg backend and its own fonts; the page has no script): per actor, the stance score
over time, daily and weekly, with the mentions behind each point and a 95 % interval; the sources
side by side; label shares; the share of low-confidence labels when ``mentions/`` has a
``confidence`` column; and the evidence, the most confident sentences for each actor and label with
the actor's mention highlighted.

    stance-pipeline report --output out        # writes out/report/index.html

Reads ``actors/`` (overall counts), ``daily/`` (time series and sources) and ``mentions/`` (evidence
and confidence) as written by ``run``; any number of actors and sources, a single day, or no
mentions at all (the page says so).
"""

from __future__ import annotations

import datetime
import html
import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import UsageError
from pipeline.schemas import TABLES

LABELS = ("favor", "against", "neutral")
# Okabe-Ito colours, told apart with the common colour-vision deficiencies.
COLOURS = {"favor": "#0072B2", "against": "#D55E00", "neutral": "#999999"}
SCORE_COLOUR = "#222222"
# A label whose `confidence` is below this counts as low-confidence.
LOW_CONFIDENCE = 0.5
# Sentences shown per actor and label as evidence.
EVIDENCE_PER_LABEL = 5
# Rows in a chart with one row per source or actor; the rest are named below the chart.
MAX_ROWS = 25
Z95 = 1.959964


@dataclass
class Counts:
    """Label counts of a set of mentions, with the stance score and its interval."""

    favor: int = 0
    against: int = 0
    neutral: int = 0

    def add(self, favor: int, against: int, neutral: int) -> None:
        self.favor += favor
        self.against += against
        self.neutral += neutral

    @property
    def n(self) -> int:
        return self.favor + self.against + self.neutral

    @property
    def score(self) -> float | None:
        return (self.favor - self.against) / self.n if self.n else None

    def interval(self) -> tuple[float, float] | None:
        return score_interval(self.favor, self.against, self.neutral)

    def shares(self) -> dict[str, float]:
        return {label: (getattr(self, label) / self.n if self.n else 0.0) for label in LABELS}


def score_interval(favor: int, against: int, neutral: int, z: float = Z95) -> tuple[float, float] | None:
    """A 95 % interval for the stance score (favor - against) / n.

    The score is the mean of +1 (favor), -1 (against) and 0 (neutral) over the mentions. As in the
    Agresti-Coull interval for a proportion, one pseudo-mention is added to each label before the
    mean and its standard error are taken, so a point resting on one or two mentions gets a wide
    interval instead of a zero-width one. It treats mentions as independent (mentions in one article
    are not), so it is the least uncertainty there is. Clipped to [-1, 1]; None without mentions.
    """
    n = favor + against + neutral
    if n == 0:
        return None
    f, a, m = favor + 1, against + 1, n + 3
    centre = (f - a) / m
    variance = (f + a) / m - centre * centre
    half = z * math.sqrt(max(variance, 0.0) / m)
    return max(-1.0, centre - half), min(1.0, centre + half)


# ---- reading the run --------------------------------------------------------------------------------

def _check_run(output: str) -> None:
    if "://" in output:
        raise UsageError(f"report reads a local output directory, not {output}")
    if not os.path.exists(output):
        raise UsageError(f"output directory {output} does not exist (run: stance-pipeline run --output {output})")
    if not os.path.isdir(output):
        raise UsageError(f"output path {output} is a file, not a directory")
    if not os.path.exists(os.path.join(output, "_SUCCESS")):
        raise UsageError(f"{output} is not a finished run (no _SUCCESS); run stance-pipeline run --output {output} first")


def _files(output: str, name: str) -> list[str]:
    directory = os.path.join(output, name)
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".parquet"))


def read_table(output: str, name: str, columns: list[str] | None = None) -> pa.Table:
    """One table of the run; an absent or empty table reads as no rows of the declared schema.
    Columns asked for that the files lack (e.g. ``confidence`` before it existed) are left out."""
    schema = TABLES[name]
    files = _files(output, name)
    if files:
        available = set(pq.read_schema(files[0]).names)
        cols = [c for c in columns if c in available] if columns else None
        tables = [pq.read_table(f, columns=cols) for f in files]
        tables = [t for t in tables if t.num_rows] or tables[:1]
        return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    cols = [c for c in columns if c in schema.names] if columns else schema.names
    return schema.empty_table().select(cols)


@dataclass
class Actor:
    id: str
    name: str
    articles: int
    total: Counts
    daily: dict = field(default_factory=dict)      # date -> Counts
    sources: dict = field(default_factory=dict)    # source or None -> Counts
    undated: int = 0                               # mentions without a publication date
    low_confidence: dict = field(default_factory=dict)  # label -> (low, with a confidence)
    evidence: dict = field(default_factory=dict)   # label -> [row dict]


@dataclass
class Run:
    output: str
    manifest: dict
    actors: list[Actor]
    sources: list            # every source seen in daily/, None for articles without one
    has_confidence: bool
    mentions: int


def load_run(output: str) -> Run:
    """Reads what the page shows from the run's tables."""
    _check_run(output)
    try:
        with open(os.path.join(output, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        manifest = {}

    actors = {}
    for r in read_table(output, "actors").to_pylist():
        actors[r["actor"]] = Actor(r["actor"], r["name"], r["articles"],
                                   Counts(r["favor"], r["against"], r["neutral"]))
    sources = set()
    for r in read_table(output, "daily", ["source", "published", "actor", "favor", "against", "neutral"]).to_pylist():
        actor = actors.setdefault(r["actor"], Actor(r["actor"], r["actor"], 0, Counts()))
        counts = (r["favor"], r["against"], r["neutral"])
        sources.add(r["source"])
        actor.sources.setdefault(r["source"], Counts()).add(*counts)
        if r["published"] is None:
            actor.undated += sum(counts)
        else:
            actor.daily.setdefault(r["published"], Counts()).add(*counts)

    mentions = read_table(output, "mentions", [
        "article_id", "source", "published", "sentence", "actor", "mention_starts", "mention_ends",
        "stance", "p_favor", "p_against", "p_neutral", "confidence"])
    # Used where the model gives one: a numeric column with at least one value.
    has_confidence = ("confidence" in mentions.column_names
                      and (pa.types.is_floating(mentions.schema.field("confidence").type)
                           or pa.types.is_integer(mentions.schema.field("confidence").type))
                      and mentions["confidence"].null_count < mentions.num_rows)
    if has_confidence:
        _low_confidence(mentions, actors)
    _evidence(mentions, actors, has_confidence, read_table(output, "articles", ["article_id", "title"]))

    order = sorted(actors.values(), key=lambda a: (-a.total.n, a.id))
    return Run(output, manifest, order, sorted(sources, key=lambda s: (s is None, s or "")),
               has_confidence, mentions.num_rows)


def _low_confidence(mentions: pa.Table, actors: dict) -> None:
    known = mentions.filter(pc.is_valid(mentions["confidence"]))
    low = pc.less(known["confidence"], LOW_CONFIDENCE)
    grouped = (pa.table({"actor": known["actor"], "stance": known["stance"], "low": pc.cast(low, pa.int64())})
               .group_by(["actor", "stance"]).aggregate([("low", "sum"), ("low", "count")]))
    for r in grouped.to_pylist():
        if r["actor"] in actors:
            actors[r["actor"]].low_confidence[r["stance"]] = (r["low_sum"], r["low_count"])


def _evidence(mentions: pa.Table, actors: dict, has_confidence: bool, articles: pa.Table) -> None:
    """The EVIDENCE_PER_LABEL most confident mentions per actor and label: by ``confidence`` where
    the model gives one, else by the probability of the label it chose."""
    if not mentions.num_rows:
        return
    chosen = pc.case_when(
        pc.make_struct(pc.equal(mentions["stance"], "favor"), pc.equal(mentions["stance"], "against")),
        mentions["p_favor"], mentions["p_against"], mentions["p_neutral"])
    rank = pc.coalesce(mentions["confidence"], pa.scalar(-1.0)) if has_confidence else chosen
    table = mentions.append_column("_rank", pc.cast(rank, pa.float64())).append_column("_p", chosen)
    table = table.sort_by([("actor", "ascending"), ("stance", "ascending"), ("_rank", "descending"),
                           ("article_id", "ascending")])
    keep, taken = [], defaultdict(int)
    for i, key in enumerate(zip(table["actor"].to_pylist(), table["stance"].to_pylist())):
        if taken[key] < EVIDENCE_PER_LABEL:
            taken[key] += 1
            keep.append(i)
    titles = dict(zip(articles["article_id"].to_pylist(), articles["title"].to_pylist()))
    for r in table.take(keep).to_pylist():
        if r["actor"] in actors:
            r["title"] = titles.get(r["article_id"])
            actors[r["actor"]].evidence.setdefault(r["stance"], []).append(r)


# ---- charts ---------------------------------------------------------------------------------------

def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=100, layout=layout)


def _save(fig, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for ax in fig.axes:
        ax.set_axisbelow(True)  # grid lines behind the bars
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", metadata={"Software": None})


def _week(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())  # the Monday that starts its ISO week


def _series(daily: dict, weekly: bool) -> list[tuple[datetime.date, Counts]]:
    if not weekly:
        return sorted(daily.items())
    weeks = defaultdict(Counts)
    for day, c in daily.items():
        weeks[_week(day)].add(c.favor, c.against, c.neutral)
    return sorted(weeks.items())


def _score_axes(ax, xs, counts, *, horizontal: bool = False):
    """Score points with their intervals (vertical lines, or horizontal ones for a row per item)."""
    scores = [c.score for c in counts]
    lows = [c.interval()[0] for c in counts]
    highs = [c.interval()[1] for c in counts]
    if horizontal:
        ax.hlines(xs, lows, highs, color=SCORE_COLOUR, linewidth=2, alpha=0.45, label="95 % interval")
        ax.plot(scores, xs, "o", color=SCORE_COLOUR, label="stance score")
        ax.axvline(0, color="#bbbbbb", linewidth=1, zorder=0)
        ax.set_xlim(-1.05, 1.05)
    else:
        ax.vlines(xs, lows, highs, color=SCORE_COLOUR, linewidth=2, alpha=0.45, label="95 % interval")
        ax.plot(xs, scores, "o-", color=SCORE_COLOUR, linewidth=0.8, markersize=5, label="stance score")
        ax.axhline(0, color="#bbbbbb", linewidth=1, zorder=0)
        ax.set_ylim(-1.05, 1.05)
    ax.grid(True, axis="x" if horizontal else "y", color="#eeeeee")


def time_chart(actor: Actor, path: str) -> None:
    """Daily and weekly stance score with intervals, above the mentions behind each point."""
    import matplotlib.dates as mdates

    fig = _figure(11, 5.2, layout=None)  # fixed margins: a constrained layout doubles the drawing time
    axes = fig.subplots(2, 2, sharex="col", height_ratios=[3, 1.3])
    fig.subplots_adjust(left=0.08, right=0.99, top=0.88, bottom=0.09, wspace=0.22, hspace=0.07)
    for col, weekly in enumerate((False, True)):
        series = _series(actor.daily, weekly)
        # A week's point and bar sit at its middle (Thursday noon), a day's at its noon.
        offset = datetime.timedelta(days=3.5 if weekly else 0.5)
        xs = [datetime.datetime.combine(d, datetime.time()) + offset for d, _ in series]
        counts = [c for _, c in series]
        top, bottom = axes[0][col], axes[1][col]
        _score_axes(top, xs, counts)
        top.set_title("Weekly (weeks start on Monday)" if weekly else "Daily", loc="left", fontsize=11)
        top.set_ylabel("stance score")
        base = [0] * len(xs)
        for label in LABELS:
            values = [getattr(c, label) for c in counts]
            bottom.bar(xs, values, width=6 if weekly else 0.8, bottom=base, color=COLOURS[label], label=label)
            base = [b + v for b, v in zip(base, values)]
        bottom.set_ylabel("mentions")
        bottom.grid(True, axis="y", color="#eeeeee")
        # At least a week of days or five weeks on the axis, so a run of one day still reads as dates.
        pad = datetime.timedelta(days=4.5 if weekly else 1)
        low, high = min(xs) - pad, max(xs) + pad
        short = datetime.timedelta(days=35 if weekly else 7) - (high - low)
        if short > datetime.timedelta():
            low, high = low - short / 2, high + short / 2
        bottom.set_xlim(low, high)
        if weekly and high - low < datetime.timedelta(weeks=20):
            locator = mdates.WeekdayLocator(byweekday=mdates.MO)  # ticks where weeks start
        else:
            locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    handles, labels = axes[0][0].get_legend_handles_labels()
    bars, bar_labels = axes[1][0].get_legend_handles_labels()
    fig.legend(handles + bars, labels + [f"{l} mentions" for l in bar_labels], loc="upper center",
               ncols=5, fontsize=9, frameon=False)
    _save(fig, path)


def rows_chart(names: list[str], counts: list[Counts], path: str, what: str) -> None:
    """One row per item (a source or an actor): the score with its interval and n on the left,
    the label shares on the right."""
    rows = len(names)
    fig = _figure(11, 1.3 + 0.42 * rows)
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1.1, 1])
    ys = list(range(rows))
    _score_axes(left, ys, counts, horizontal=True)
    for y, c in zip(ys, counts):
        left.annotate(f"n={c.n}", (1.02, y), xycoords=("axes fraction", "data"), va="center", fontsize=8,
                      color="#555555")
    left.set_yticks(ys, names)
    left.set_ylim(rows - 0.5, -0.5)  # first row on top
    left.set_title(f"Stance score by {what}, 95 % interval", loc="left", fontsize=11)
    left.set_xlabel("(favor − against) / mentions")
    base = [0.0] * rows
    for label in LABELS:
        values = [c.shares()[label] for c in counts]
        right.barh(ys, values, left=base, color=COLOURS[label], label=label, height=0.7)
        base = [b + v for b, v in zip(base, values)]
    right.set_xlim(0, 1)
    right.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.set_title("Label shares", loc="left", fontsize=11)
    fig.legend(*right.get_legend_handles_labels(), loc="outside upper right", ncols=3, fontsize=9, frameon=False)
    fig.get_layout_engine().set(wspace=0.12)
    _save(fig, path)


def confidence_chart(actors: list[Actor], path: str) -> None:
    """Share of low-confidence labels per actor and label."""
    rows = len(actors)
    fig = _figure(11, 1.3 + 0.5 * rows)
    ax = fig.subplots()
    height = 0.8 / len(LABELS)
    for k, label in enumerate(LABELS):
        ys, values, notes = [], [], []
        for y, a in enumerate(actors):
            low, known = a.low_confidence.get(label, (0, 0))
            if known:
                ys.append(y + (k - 1) * height)
                values.append(low / known)
                notes.append(f"{low}/{known}")
        ax.barh(ys, values, height=height * 0.95, color=COLOURS[label], label=label)
        for y, v, note in zip(ys, values, notes):
            ax.annotate(note, (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7, color="#555555")
    ax.set_yticks(range(rows), [a.name for a in actors])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title(f"Share of labels with confidence below {LOW_CONFIDENCE}", loc="left", fontsize=11)
    ax.grid(True, axis="x", color="#eeeeee")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    _save(fig, path)


# ---- the page -------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1140px; padding: 1em 1.5em 3em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; display: block; }
figcaption, .note { color: #555; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
mark { background: #ffe08a; padding: 0 0.1em; }
.label { display: inline-block; padding: 0 0.45em; border-radius: 3px; color: #fff; font-size: 0.9em; }
.favor { background: #0072B2; } .against { background: #D55E00; } .neutral { background: #777; }
nav a { margin-right: 1em; }
.empty { font-size: 1.15em; padding: 1em; background: #f6f6f6; border-left: 4px solid #999; }
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def highlight(sentence: str, starts: list[int], ends: list[int]) -> str:
    """The sentence, HTML-escaped, with each mention (character offsets) in <mark>."""
    out, pos = [], 0
    for s, e in sorted(zip(starts or [], ends or [])):
        if s < pos or e > len(sentence) or s >= e:
            continue  # overlapping or out of range: leave the text as it is
        out += [html.escape(sentence[pos:s]), "<mark>", html.escape(sentence[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(sentence[pos:]))
    return "".join(out)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _fmt_score(c: Counts) -> str:
    if not c.n:
        return "–"
    lo, hi = c.interval()
    return f"{c.score:+.2f} [{lo:+.2f}, {hi:+.2f}]"


def _source_name(source) -> str:
    return "(no source)" if source is None else source


def _capped(items: list, names: list[str], what: str) -> tuple[list, list[str], str]:
    if len(items) <= MAX_ROWS:
        return items, names, ""
    rest = ", ".join(_e(n) for n in names[MAX_ROWS:])
    return (items[:MAX_ROWS], names[:MAX_ROWS],
            f'<p class="note">{len(items) - MAX_ROWS} more {what} with fewer mentions, not charted: {rest}.</p>')


def _img(src: str, alt: str, caption: str) -> str:
    return f'<figure><img src="{_e(src)}" alt="{_e(alt)}"><figcaption>{caption}</figcaption></figure>'


def write_report(output: str) -> str:
    """Writes ``OUTPUT/report/index.html`` and its charts; returns the page's path."""
    run = load_run(output)
    directory = os.path.join(output, "report")
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):  # charts of an earlier report
        if name.endswith(".png"):
            os.remove(os.path.join(directory, name))
    page = _page(run, directory)
    path = os.path.join(directory, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


def _page(run: Run, directory: str) -> str:
    m = run.manifest
    counts = m.get("counts", {})
    model = (m.get("model") or {}).get("model_version", "unknown model")
    days = sorted({d for a in run.actors for d in a.daily})
    period = f"{days[0]} to {days[-1]}" if len(days) > 1 else (f"{days[0]}" if days else "no dated articles")
    named = [x for x in run.sources if x is not None]
    sources = _plural(len(named), "source") + (" and articles without one" if None in run.sources else "")
    parts = [f"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             f"<title>Stance report: {_e(os.path.basename(os.path.abspath(run.output)))}</title>\n"
             f"<style>{STYLE}</style>\n</head>\n<body>\n"
             f"<h1>How the news portrays {_plural(len(run.actors), 'actor')}</h1>\n"
             f"<p>Run <code>{_e(m.get('run_id', '?'))}</code>: "
             f"{_plural(counts.get('articles_analysed', 0), 'article')} analysed"
             + (f" from {sources}, {period}" if run.mentions else "")
             + f"; {_plural(run.mentions, 'sentence-actor mention')} labelled by <code>{_e(model)}</code>; "
             f"{_plural(counts.get('dead_letters', 0), 'record')} in <code>errors/</code>.</p>\n"]
    if not run.mentions:
        parts.append("<p class=\"empty\" id=\"no-mentions\">This run found no mentions of any actor, so there is "
                     "nothing to chart: no sentence of the analysed articles matched an alias in the actors file.</p>\n")
        if run.actors:
            parts.append("<p>Actors looked for: " + ", ".join(_e(a.name) for a in run.actors) + ".</p>\n")
        parts.append("</body>\n</html>\n")
        return "".join(parts)

    parts.append("<p class=\"note\">The stance score of a set of mentions is (favor − against) / mentions, from −1 "
                 "(all against) to +1 (all favor). Its 95 % interval adds one pseudo-mention to each label (as the "
                 "Agresti-Coull interval does for a proportion), so a point resting on few mentions shows a wide "
                 "interval.</p>\n")
    charted = [a for a in run.actors if a.total.n]
    parts.append("<nav>" + "".join(f'<a href="#actor-{i}">{_e(a.name)}</a>' for i, a in enumerate(charted)) + "</nav>\n")
    parts.append("<h2 id=\"overview\">Overview</h2>\n")
    shown, names, note = _capped(charted, [a.name for a in charted], "actors")
    rows_chart(names, [a.total for a in shown], os.path.join(directory, "overview.png"), "actor")
    parts.append(_img("overview.png", "Stance score and label shares per actor",
                      "Each actor's stance score over all its mentions, with its 95 % interval and the number "
                      "of mentions (n), and the shares of its labels.") + note + "\n")
    parts.append(_overview_table(run))
    if run.has_confidence:
        confidence_chart(shown, os.path.join(directory, "confidence.png"))
        parts.append(_img("confidence.png", "Share of low-confidence labels per actor and label",
                          f"The share of each actor's labels whose confidence is below {LOW_CONFIDENCE} "
                          "(low / mentions with a confidence).") + "\n")
    else:
        parts.append("<p class=\"note\" id=\"no-confidence\">The mentions table of this run has no "
                     "<code>confidence</code> values, so no share of low-confidence labels is shown; the evidence "
                     "below is ranked by the probability the model gave the label it chose.</p>\n")
    for i, actor in enumerate(charted):
        parts.append(_actor_section(i, actor, run, directory))
    silent = [a for a in run.actors if not a.total.n]
    if silent:
        parts.append("<p class=\"note\">Not mentioned in this run: " + ", ".join(_e(a.name) for a in silent) + ".</p>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _overview_table(run: Run) -> str:
    head = ["actor", "articles", "mentions", "score [95 % interval]", "favor", "against", "neutral"]
    if run.has_confidence:
        head.append(f"confidence &lt; {LOW_CONFIDENCE}")
    rows = []
    for a in run.actors:
        shares = a.total.shares()
        cells = [_e(a.name), a.articles, a.total.n, _fmt_score(a.total)] + [f"{shares[l]:.0%}" for l in LABELS]
        if run.has_confidence:
            low = sum(v[0] for v in a.low_confidence.values())
            known = sum(v[1] for v in a.low_confidence.values())
            cells.append(f"{low / known:.0%} ({low}/{known})" if known else "–")
        rows.append("<tr>" + f"<td>{cells[0]}</td>" + "".join(f'<td class="num">{c}</td>' for c in cells[1:]) + "</tr>")
    return ("<table id=\"actors\"><thead><tr>" + f"<th>{head[0]}</th>" + "".join(f'<th class="num">{h}</th>' for h in head[1:])
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>\n")


def _actor_section(i: int, actor: Actor, run: Run, directory: str) -> str:
    parts = [f'<section id="actor-{i}">\n<h2>{_e(actor.name)} <small class="note">({_e(actor.id)})</small></h2>\n'
             f"<p>{actor.total.n} mentions in {actor.articles} articles; stance score {_fmt_score(actor.total)}.</p>\n"]
    if actor.daily:
        time_png = f"actor-{i}-time.png"
        time_chart(actor, os.path.join(directory, time_png))
        days = len(actor.daily)
        caption = ("The stance score of each day's and each week's mentions (dots, with 95 % intervals), above the "
                   "mentions behind each point by label.")
        if days == 1:
            caption += " This run has mentions on a single day."
        if actor.undated:
            caption += f" {actor.undated} mentions in articles without a date are not in the time series."
        parts.append(_img(time_png, f"{actor.name}: stance score over time", caption) + "\n")
    else:
        parts.append(f"<p class=\"note\">No mention of {_e(actor.name)} has a publication date: no time series.</p>\n")
    sources = sorted(actor.sources.items(), key=lambda kv: (-kv[1].n, kv[0] is None, kv[0] or ""))
    sources = [(s, c) for s, c in sources if c.n]
    items = [("All sources", actor.total)] + [(_source_name(s), c) for s, c in sources]
    shown, names, note = _capped(items, [n for n, _ in items], "sources")
    src_png = f"actor-{i}-sources.png"
    rows_chart(names, [c for _, c in shown], os.path.join(directory, src_png), "source")
    parts.append(_img(src_png, f"{actor.name}: stance score and label shares by source",
                      "Sources side by side: each source's stance score toward the actor with its 95 % interval and "
                      "number of mentions (n), and its label shares.") + note + "\n")
    parts.append(_evidence_html(actor, run.has_confidence))
    parts.append("</section>\n")
    return "".join(parts)


def _evidence_html(actor: Actor, has_confidence: bool) -> str:
    rank = "confidence" if has_confidence else "p(label)"
    parts = [f"<h3>Evidence</h3>\n<p class=\"note\">For each label, the {EVIDENCE_PER_LABEL} mentions the model was "
             f"surest of ({'by its confidence' if has_confidence else 'by the probability of the label it chose'}), "
             "the actor's mention highlighted.</p>\n"]
    for label in LABELS:
        rows = actor.evidence.get(label, [])
        parts.append(f'<h4><span class="label {label}">{label}</span> {getattr(actor.total, label)} mentions</h4>\n')
        if not rows:
            parts.append("<p class=\"note\">None.</p>\n")
            continue
        parts.append(f'<table class="evidence"><thead><tr><th class="num">{rank}</th><th>sentence</th><th>article</th>'
                     "<th>source</th><th>date</th></tr></thead><tbody>")
        for r in rows:
            value = r["confidence"] if has_confidence else r["_p"]
            article = _e(r["article_id"]) + (f"<br><span class=\"note\">{_e(r['title'])}</span>" if r.get("title") else "")
            parts.append(f'<tr><td class="num">{"–" if value is None else f"{value:.2f}"}</td>'
                         f"<td>{highlight(r['sentence'], r['mention_starts'], r['mention_ends'])}</td>"
                         f"<td>{article}</td><td>{_e(_source_name(r['source']))}</td>"
                         f"<td class=\"num\">{_e(r['published'] or '–')}</td></tr>")
        parts.append("</tbody></table>\n")
    return "".join(parts)
