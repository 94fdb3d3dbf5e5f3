"""The ML engine: plain Python, importable and testable without Django.

It takes items (image bytes or texts) and returns predictions (probability vectors over a
label set). Django code in ``labeling`` adapts it to projects, jobs and predictions.
"""
