"""The report as a person sees it: each page is opened in headless Chromium, which must load every
chart; each chart must show data; the screenshot must show a page. Runs come from the real pipeline:
the sample corpus, a one-day run with many actors and sources and HTML in the text, a run with no
mentions, and the sample run without its ``confidence`` column."""

import json
import os
import re
import shutil
import subprocess
import tempfile

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.report import COLOURS, SCORE_COLOUR, highlight, load_run, score_interval, write_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
# Appended to a copy of the page: once everything has loaded, it writes what each image did into the DOM.
PROBE = """<pre id="probe"></pre><script>
window.addEventListener("load", () => {
  document.getElementById("probe").textContent = JSON.stringify(Array.from(document.images, img => (
    {src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth, height: img.naturalHeight})));
});
</script>"""


def _chromium():
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        message = "headless Chromium is missing: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def chromium(page, *args):
    """Runs headless Chromium on a local page with a fresh profile; returns its standard output."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args,
                               "file://" + os.path.abspath(page)],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def open_in_browser(report_dir, screenshot):
    """What Chromium loaded of each <img>, and a screenshot of the page's top."""
    probe = os.path.join(report_dir, "probe.html")
    page = open(os.path.join(report_dir, "index.html"), encoding="utf-8").read()
    with open(probe, "w", encoding="utf-8") as f:
        f.write(page.replace("</body>", PROBE + "</body>"))
    dom = chromium(probe, "--virtual-time-budget=10000", "--dump-dom")
    os.remove(probe)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), "the probe did not run"
    images = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    chromium(os.path.join(report_dir, "index.html"), "--window-size=1280,2400", f"--screenshot={screenshot}")
    return images


def _pixels(path, colour, tolerance=12):
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    image = Image.open(path).convert("RGB")
    return sum(n for n, px in image.getcolors(image.width * image.height)
               if all(abs(a - b) <= tolerance for a, b in zip(px, rgb)))


def assert_page_works(out, tmp_path):
    """Every image on the page loads in the browser and every chart has data drawn in it."""
    report = os.path.join(out, "report")
    images = open_in_browser(report, tmp_path / "screenshot.png")
    pngs = sorted(f for f in os.listdir(report) if f.endswith(".png"))
    assert sorted(i["src"] for i in images) == pngs
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 100, image
    for name in pngs:
        path = os.path.join(report, name)
        bars = sum(_pixels(path, COLOURS[label]) for label in COLOURS)
        assert bars > 500, f"{name}: no bars drawn"
        if name != "confidence.png":
            assert _pixels(path, SCORE_COLOUR) > 100, f"{name}: no score points drawn"
    shot = Image.open(tmp_path / "screenshot.png").convert("L")
    assert shot.size == (1280, 2400)
    dark = sum(n for n, level in shot.getcolors(256 * 256) if level < 128)
    assert dark > 20_000, "the screenshot shows an empty page"
    return open(os.path.join(report, "index.html"), encoding="utf-8").read(), images


def test_score_interval():
    assert score_interval(0, 0, 0) is None
    lo, hi = score_interval(1, 0, 0)  # one favor mention: a wide interval that still holds +1
    assert (round(lo, 3), hi) == (-0.563, 1.0)
    lo, hi = score_interval(300, 100, 100)
    assert (round(lo, 3), round(hi, 3)) == (0.328, 0.468)  # around the score 0.4 (0.398 with the pseudo-mentions)
    assert score_interval(0, 50, 0)[0] == -1.0


def test_highlight_escapes_the_text_and_marks_each_mention():
    sentence = "<b>Turkey</b> & Russia's \"deal\""
    assert highlight(sentence, [3, 16], [9, 22]) == (
        "&lt;b&gt;<mark>Turkey</mark>&lt;/b&gt; &amp; <mark>Russia</mark>&#x27;s &quot;deal&quot;")
    assert highlight("Ankara", [0, 0], [6, 6]) == "<mark>Ankara</mark>"  # an overlapping span is skipped


def test_sample_run_report(sample_run, tmp_path, capsys):
    assert main(["report", "--output", str(sample_run)]) == 0
    assert capsys.readouterr().out == f"Wrote {sample_run}/report/index.html\n"
    page, images = assert_page_works(sample_run, tmp_path)
    # the overview, the low-confidence shares, and per actor the time series and the sources
    assert len(images) == 1 + 1 + 2 * 3
    assert 'id="no-confidence"' not in page and "confidence.png" in page
    for name in ("Turkey", "Russia", "Assad regime", "The Bosphorus Chronicle", "Volga Herald"):
        assert name in page
    # evidence: the sentence is escaped text and the mention is marked
    assert re.search(r"<td>[^<]*<mark>[^<]+</mark>", page)
    assert not re.search(r"<(script|link)\b", page) and "http" not in re.sub(r"<td>.*?</td>", "", page)


def test_confidence_column_is_used_and_its_absence_said(sample_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sample_run, out, ignore=shutil.ignore_patterns("report"))
    confidence = pq.read_table(out / "mentions")["confidence"]
    write_report(str(out))
    page, images = assert_page_works(out, tmp_path)
    assert "confidence.png" in [i["src"] for i in images]
    assert 'id="no-confidence"' not in page and "confidence &lt; 0.5" in page
    low = pc.sum(pc.less(confidence, 0.5)).as_py()
    totals = re.findall(r"\((\d+)/(\d+)\)</td>", page)  # the overview table: low / mentions, per actor
    assert sum(int(a) for a, _ in totals) == low and sum(int(b) for _, b in totals) == len(confidence)

    # a column without values (a model that gives none) is as good as none, and so is no column
    for name in os.listdir(out / "mentions"):
        path = out / "mentions" / name
        table = pq.read_table(path).drop_columns("confidence")
        pq.write_table(table.append_column("confidence", pa.nulls(table.num_rows, pa.float64())), path)
    assert load_run(str(out)).has_confidence is False
    for name in os.listdir(out / "mentions"):
        path = out / "mentions" / name
        pq.write_table(pq.read_table(path).drop_columns("confidence"), path)
    write_report(str(out))
    page, images = assert_page_works(out, tmp_path)
    assert 'id="no-confidence"' in page and "confidence.png" not in [i["src"] for i in images]


@pytest.fixture(scope="module")
def one_day_run(model_path, tmp_path_factory):
    """One day, five actors from a custom actors file, 30 sources (more than a chart shows, all mentioning Alpha) and markup
    in the sentences (the reader decodes entities, so the escaped tag is a real one in the table)."""
    d = tmp_path_factory.mktemp("one_day")
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    (d / "actors.yaml").write_text("actors:\n" + "".join(
        f"  - id: {n.lower()}\n    name: {n} Republic\n    aliases: [{n}]\n" for n in names), encoding="utf-8")
    rows = []
    for i in range(30):
        a, b = names[i % 5], names[(i + 2) % 5]
        rows.append({"id": f"a{i}", "source": f"Outlet <{i:02d}> & Co", "published": "2025-01-15",
                     "text": f"{a} praised {b} for the generous aid &lt;img src=x onerror=alert(1)&gt;. "
                             f"{b} attacked {a}'s villages & killed civilians. Alpha was silent."})
    (d / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = d / "out"
    assert main(["-q", "run", "--input", str(d / "news.jsonl"), "--output", str(out), "--model", model_path,
                 "--actors", str(d / "actors.yaml")]) == 0
    return out


def test_one_day_many_actors_and_sources(one_day_run, tmp_path):
    write_report(str(one_day_run))
    page, images = assert_page_works(one_day_run, tmp_path)
    assert len(images) == 1 + 1 + 2 * 5
    assert "This run has mentions on a single day." in page
    sentences = pq.read_table(one_day_run / "mentions")["sentence"].to_pylist()
    assert any("<img src=x onerror=alert(1)>" in s for s in sentences)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "Outlet &lt;00&gt; &amp; Co" in page and "<00>" not in page
    assert "more sources with fewer mentions, not charted" in page  # 30 sources, 25 rows charted


def test_run_without_mentions_says_so(model_path, tmp_path):
    (tmp_path / "news.jsonl").write_text(json.dumps({"id": "x", "text": "Markets were calm."}) + "\n")
    out = tmp_path / "out"
    assert main(["-q", "run", "--input", str(tmp_path / "news.jsonl"), "--output", str(out), "--model", model_path]) == 0
    assert pq.read_table(out / "mentions").num_rows == 0
    assert main(["-q", "report", "--output", str(out)]) == 0
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="no-mentions"' in page and "found no mentions of any actor" in page
    assert "<img" not in page
    shot = tmp_path / "shot.png"
    chromium(out / "report" / "index.html", "--window-size=1000,600", f"--screenshot={shot}")
    assert Image.open(shot).size == (1000, 600)


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "Error: output directory {out} does not exist"),
    (lambda p: p, "Error: {out} is not a finished run (no _SUCCESS)"),
    (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "Error: output path {out} is a file, not a directory"),
])
def test_bad_output_is_one_error_line(make, message, tmp_path, capsys):
    out = make(tmp_path)
    assert main(["report", "--output", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(message.format(out=out))
