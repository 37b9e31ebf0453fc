"""Load benchmarks of the SkillsUp portal: ``make bench`` (see bench/README.md)."""
