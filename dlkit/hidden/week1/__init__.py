"""Week 1's hidden checks."""
