"""Week 1: the reference values of its checks."""
