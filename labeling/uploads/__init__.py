"""Reading uploads safely: what a file is (by content), ZIP checks before extraction, and the
text formats (TXT, CSV, JSON, JSONL) turned into records. No database here; the import service
in ``labeling.items.imports`` writes what these produce.
"""
