"""Quality measurements of hand-offs, one module per failure mode.

Each module exposes a pure function on pixels that returns a score in
[0, 1] (1 = best) with its per-cue detail, so ops (``depth_cues``), the
``select`` step and the gates all judge an asset the same way.
"""
