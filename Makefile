# Two commands for a newcomer: `make run` (set up, train if needed, run on the sample corpus) and
# `make test`. Everything installs into .venv with the pinned versions in constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/stance.skops
ENCODER := models/stance-encoder
# The encoder extra lives in its own environment: with torch installed, loading the default model
# imports it too (skops lists scikit-learn's estimators, which imports sklearn's torch shim), about
# 2.5 s and 230 MB more for every process of the default pipeline.
ENC_VENV := .venv-encoder
ENC_BIN := $(ENC_VENV)/bin
ENCODER_STAMP := $(ENC_VENV)/.installed
TRAIN_DATA := datasets/stance/train.jsonl
OUT := out

.PHONY: run test train eval eval-detection bench clean data help encoder eval-encoder run-encoder test-encoder

help:
	@echo "make run    set up .venv, train the model if missing, run on datasets/sample/ into $(OUT)/"
	@echo "make test   run the test suite"
	@echo "make train  (re)train the stance model into $(MODEL)"
	@echo "make eval   score the model, write reports/eval.md and reports/eval.json; then make eval-detection"
	@echo "make eval-detection  actor detection on conflict-news dev, writes reports/detection.md"
	@echo "make bench  throughput benchmark, writes reports/bench.md"
	@echo "make clean  remove .venv, models/, $(OUT)/ and caches"
	@echo "optional fine-tuned encoder model (about 1.5 GB of packages, 17 min of training on 2 cores):"
	@echo "make encoder       install the [encoder] extra into $(ENC_VENV) and train $(ENCODER)"
	@echo "make eval-encoder  score it, write reports/encoder/eval.md"
	@echo "make run-encoder   run on datasets/sample/ with it, into $(OUT)-encoder/"
	@echo "make test-encoder  the encoder's tests (make test skips them without the extra)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

$(MODEL): $(STAMP) $(TRAIN_DATA) $(filter-out pipeline/stance/encoder.py,$(wildcard pipeline/stance/*.py))
	$(BIN)/stance-pipeline train --data $(TRAIN_DATA) --model $@

run: $(STAMP) $(MODEL)
	$(BIN)/stance-pipeline run --input datasets/sample --output $(OUT)

train: $(STAMP)
	$(BIN)/stance-pipeline train --data $(TRAIN_DATA) --model $(MODEL)

eval: $(STAMP) $(MODEL)
	$(BIN)/stance-pipeline eval --model $(MODEL)
	$(MAKE) eval-detection

# The whole pipeline on ../shared/benchmarks/conflict-news/dev, each excerpt with its preset (about 40 s).
eval-detection: $(STAMP) $(MODEL)
	$(BIN)/python -m evaluation.detection --model $(MODEL)

test: $(STAMP) $(MODEL)
	$(BIN)/python -m pytest tests

bench: $(STAMP) $(MODEL)
	$(BIN)/python -m pipeline.bench

$(ENCODER_STAMP): pyproject.toml constraints.txt
	test -x $(ENC_BIN)/python || $(PYTHON) -m venv $(ENC_VENV)
	$(ENC_BIN)/python -m pip install --quiet --upgrade pip
	$(ENC_BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,encoder]'
	touch $@

$(ENCODER)/encoder.json: $(ENCODER_STAMP) $(TRAIN_DATA) pipeline/stance/encoder.py pipeline/stance/data.py
	$(ENC_BIN)/stance-pipeline train --encoder --data $(TRAIN_DATA) --model $(ENCODER)

encoder: $(ENCODER)/encoder.json

eval-encoder: $(ENCODER)/encoder.json
	$(ENC_BIN)/stance-pipeline eval --model $(ENCODER) --reports reports/encoder

run-encoder: $(ENCODER)/encoder.json
	$(ENC_BIN)/stance-pipeline run --input datasets/sample --output $(OUT)-encoder --model $(ENCODER)

test-encoder: $(ENCODER)/encoder.json
	STANCE_ENCODER_MODEL=$(ENCODER) $(ENC_BIN)/python -m pytest tests/test_encoder.py

# Rebuild datasets/stance/{train,test}.jsonl from the annotators' files in datasets/stance/parts/.
data: $(STAMP)
	$(BIN)/python datasets/stance/build.py

clean:
	rm -rf $(VENV) $(ENC_VENV) models $(OUT) $(OUT)-encoder .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
