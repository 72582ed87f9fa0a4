"""Hidden checks: declared ``hidden = true`` in ``exercises.toml``, run only by ``dlkit grade``, never
shipped in a student's handout (whose points table announces their points)."""
