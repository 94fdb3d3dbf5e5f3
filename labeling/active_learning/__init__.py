"""Active learning: which items people should label next, how much that saves, and the label-issue
queue. Beside labeling.learning (neither imports the other); imports inference and items."""
