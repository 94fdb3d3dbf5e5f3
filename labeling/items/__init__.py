"""Items and how they arrive: uploads and imports (``imports``), creating and deleting items
(``services``), stored files (``files``), and their reads, API and import task.
The lowest layer of labeling: it imports neither inference nor learning."""
