"""The boundary between a student's code and the kit's verdicts.

The worker (:mod:`.worker`) is the one process that holds a student's code; it answers requests
and decides nothing. The grading process talks to it through :mod:`.client` (proxies for what
stays in the worker, failures as exceptions), over :mod:`.wire` (JSON and raw buffers: nothing in
a message can run code when read). :mod:`.modules` and :mod:`.describe` turn models, transforms
and plots into plain data; :mod:`.zygote` forks workers from a warm process; :mod:`.launch` starts
one from scratch where forking is not available.
"""
