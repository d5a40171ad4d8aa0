"""Benchmarks: not part of the product (the pipeline package); run with make bench."""
