"""Running models over items: jobs in chunks (``jobs``) on the ``inference`` queue, classify-now
(``classify``), and scoring predictions under the project's review policy (``scoring``).
Imports labeling.items, never learning or active learning."""
