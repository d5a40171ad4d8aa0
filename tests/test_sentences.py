"""The splitter on news text: abbreviations, numbers, quotations, closing quotes."""

import pytest

from pipeline.sentences import split_sentences


def texts(text, **kw):
    return [text[s.start:s.end] for s in split_sentences(text, **kw)]


@pytest.mark.parametrize("text, expected", [
    ("Talks resumed on Jan. 12 in Geneva. Both sides attended.",
     ["Talks resumed on Jan. 12 in Geneva.", "Both sides attended."]),
    ("The U.S. envoy arrived. The U.N. said aid would follow.",
     ["The U.S. envoy arrived.", "The U.N. said aid would follow."]),
    ("Gen. Ahmet Demir commanded the unit. Lt. Col. Sami Aydin was wounded.",
     ["Gen. Ahmet Demir commanded the unit.", "Lt. Col. Sami Aydin was wounded."]),
    ("About 3.7 million refugees live there. Aid costs $1.2 billion a year.",
     ["About 3.7 million refugees live there.", "Aid costs $1.2 billion a year."]),
    ('"We will stay. We will not leave," the minister said. Reporters left.',
     ['"We will stay. We will not leave," the minister said.', "Reporters left."]),
    ("He said: “The truce holds. It must hold.” Shelling resumed.",
     ["He said: “The truce holds. It must hold.”", "Shelling resumed."]),
    ("Is the deal dead? “No,” he said.", ["Is the deal dead?", "“No,” he said."]),
    ("The convoy left at 9 a.m. Monday and arrived at noon.",
     ["The convoy left at 9 a.m. Monday and arrived at noon."]),
    ("Dr. Leyla Kaya treated 40 patients. She was exhausted.",
     ["Dr. Leyla Kaya treated 40 patients.", "She was exhausted."]),
    ("First paragraph ends here\nSecond paragraph starts here.",
     ["First paragraph ends here", "Second paragraph starts here."]),
])
def test_news_cases(text, expected):
    assert texts(text) == expected


def test_offsets_point_into_the_text():
    text = "  ANKARA, March 4 - Troops moved.\n\n“We are ready,” he said.  "
    spans = split_sentences(text)
    assert [(s.start, s.end) for s in spans] == [(2, 33), (35, 59)]
    assert text[35:59] == "“We are ready,” he said."


def test_run_on_sentence_is_cut_at_safe_points_and_marked():
    text = "word, " * 1000  # 6000 characters, no full stop
    spans = split_sentences(text, max_chars=500)
    assert all(s.end - s.start <= 500 for s in spans)
    assert all(s.cut for s in spans)
    assert all(text[s.end - 1] == "," for s in spans[:-1])  # cut after a comma
    covered = "".join(text[s.start:s.end] for s in spans).replace(" ", "")
    assert covered == text.replace(" ", "")


def test_no_space_run_is_cut_inside_the_token():
    text = "x" * 1200
    spans = split_sentences(text, max_chars=500)
    assert [(s.start, s.end) for s in spans] == [(0, 500), (500, 1000), (1000, 1200)]


def test_empty_and_blank():
    assert split_sentences("") == []
    assert split_sentences(" \n\t \n") == []
