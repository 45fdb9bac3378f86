"""Benchmarks: figures and ratios against the targets in DESIGN.md §7. Run: python -m bench"""
