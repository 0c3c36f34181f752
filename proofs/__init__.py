"""Long-running reliability proofs (issue #8): run from `scripts/prove.sh`, results in docs/reliability.md."""
