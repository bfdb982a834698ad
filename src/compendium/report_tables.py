"""The derived tables the report stage reads: one list serves the stage's declaration in the runner (what the
report's cache key covers, what it waits for) and the report's loader (:func:`compendium.report.load_tables`), so
the two cannot drift apart. A module of its own, without imports: the runner reads it without loading the report's
plotting libraries."""

TABLES = (
    "posts.csv",
    "threads.csv",
    "ocr_quality.csv",
    "segments.csv",
    "coding.csv",
    "reliability.csv",
    "code_frequencies.csv",
    "saturation.csv",
    "retrieval_audit.csv",
    "themes.csv",
    "theme_quotes.csv",
    "code_cooccurrence.csv",
    "interactions.csv",
    "network_metrics.csv",
    "flow_evidence.csv",
    "flow_evidence_hand.csv",
    "act_quality.csv",
)
