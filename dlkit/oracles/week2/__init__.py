"""Week 2: the reference values of its checks."""
