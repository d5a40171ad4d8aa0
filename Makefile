# Two commands for a newcomer: `make run` (set up, run on the sample corpus with the committed model)
# and `make test`. Everything installs into .venv with the pinned versions in constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The default stance model: the distilled MiniLM encoder served with ONNX Runtime, committed so that
# `make run` trains nothing and needs no torch. `make encoder` rebuilds it.
MODEL := models/stance-onnx
# The linear model (TF-IDF and cues, logistic regression): about ten times faster, less accurate.
LINEAR := models/stance.skops
# Training the encoder needs torch and transformers (about 1.5 GB): their own environment, so that
# the default install never has them.
ENC_VENV := .venv-encoder
ENC_BIN := $(ENC_VENV)/bin
ENCODER_STAMP := $(ENC_VENV)/.installed
TEACHER_STAMP := $(ENC_VENV)/.teacher-installed
ENCODER := models/stance-encoder
TEACHER := models/stance-teacher
TRAIN_DATA := datasets/stance/train.jsonl
UNLABELLED := datasets/stance/unlabelled.jsonl
TEACHER_PROBS := datasets/stance/teacher.jsonl
OUT := out

.PHONY: run report test train eval eval-detection bench clean data help teacher encoder test-encoder

help:
	@echo "make run      set up .venv, run on datasets/sample/ into $(OUT)/ with the committed model $(MODEL)"
	@echo "make report   write $(OUT)/report/index.html (charts and evidence) from the run in $(OUT)/"
	@echo "make test     run the test suite"
	@echo "make eval     score the default and the linear model on our test split, conflict-news and"
	@echo "              NewsMTSC; writes reports/eval.md and reports/eval.json; then make eval-detection"
	@echo "make eval-detection  actor detection on conflict-news dev, writes reports/detection.md"
	@echo "make bench    throughput benchmark, writes reports/bench.md"
	@echo "make train    (re)train the linear model into $(LINEAR)"
	@echo "make data     rebuild datasets/stance/*.jsonl from the writers' files"
	@echo "make clean    remove .venv, $(ENC_VENV), trained models, $(OUT)/ and caches (keeps $(MODEL))"
	@echo "Retraining the default model (torch in $(ENC_VENV), about 1.5 GB of packages):"
	@echo "make encoder  train the MiniLM student from the committed teacher probabilities (about 20 min"
	@echo "              on 2 cores) and export it to $(MODEL)"
	@echo "make teacher  fine-tune the all-mpnet-base-v2 teacher (about an hour on 2 cores) and rewrite"
	@echo "              $(TEACHER_PROBS)"
	@echo "make test-encoder  the tests that need torch (make test skips them)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

$(LINEAR): $(STAMP) $(TRAIN_DATA) $(filter-out pipeline/stance/encoder.py,$(wildcard pipeline/stance/*.py))
	$(BIN)/stance-pipeline train --data $(TRAIN_DATA) --model $@

run: $(STAMP)
	$(BIN)/stance-pipeline run --input datasets/sample --output $(OUT)

# Charts and evidence from the tables of the run in $(OUT)/ (make run first).
report: $(STAMP)
	$(BIN)/stance-pipeline report --output $(OUT)

train: $(STAMP)
	$(BIN)/stance-pipeline train --data $(TRAIN_DATA) --model $(LINEAR)

eval: $(STAMP) $(LINEAR)
	$(BIN)/stance-pipeline eval --model $(MODEL) --model $(LINEAR)
	$(MAKE) eval-detection

# The whole pipeline on ../shared/benchmarks/conflict-news/dev, each excerpt with its preset (about 40 s).
eval-detection: $(STAMP)
	$(BIN)/python -m evaluation.detection --model $(MODEL)

test: $(STAMP) $(LINEAR)
	$(BIN)/python -m pytest tests

bench: $(STAMP) $(LINEAR)
	$(BIN)/python -m benchmarks.bench

$(ENCODER_STAMP): pyproject.toml constraints.txt
	test -x $(ENC_BIN)/python || $(PYTHON) -m venv $(ENC_VENV)
	$(ENC_BIN)/python -m pip install --quiet --upgrade pip
	$(ENC_BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,encoder]'
	touch $@

$(TEACHER_STAMP): $(ENCODER_STAMP)
	$(ENC_BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,encoder,teacher]'
	touch $@

# The teacher: all-mpnet-base-v2 with its lowest six layers frozen, two epochs. Its probabilities on
# the training split and the unlabelled sentences are committed, so the student retrains without it.
teacher: $(TEACHER_STAMP)
	$(ENC_BIN)/stance-pipeline train --encoder --base mpnet --freeze 6 --epochs 2 --data $(TRAIN_DATA) --model $(TEACHER)
	$(ENC_BIN)/stance-pipeline teach --model $(TEACHER) --data $(TRAIN_DATA) $(UNLABELLED) --out $(TEACHER_PROBS)

# The student: MiniLM on the gold labels and the teacher's probabilities, then ONNX (int8 where it
# keeps the labels) with a temperature fitted on the calibration split.
encoder: $(ENCODER_STAMP)
	$(ENC_BIN)/stance-pipeline train --encoder --epochs 2 --data $(TRAIN_DATA) --teacher $(TEACHER_PROBS) --unlabelled $(UNLABELLED) --model $(ENCODER)
	$(ENC_BIN)/stance-pipeline export --model $(ENCODER) --out $(MODEL)

test-encoder: $(ENCODER_STAMP)
	STANCE_ENCODER_MODEL=$(ENCODER) $(ENC_BIN)/python -m pytest tests/test_encoder.py

# Rebuild datasets/stance/{train,calibration,test,unlabelled}.jsonl from the writers' files.
data: $(STAMP)
	$(BIN)/python datasets/stance/build.py

clean:
	rm -rf $(VENV) $(ENC_VENV) $(LINEAR) $(ENCODER) $(TEACHER) models/base $(OUT) .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
