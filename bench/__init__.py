"""Benchmarks: each module prints its numbers and the command that produced them."""
