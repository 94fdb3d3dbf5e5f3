"""Export writers: every format ML pipelines use, written from a stream of records into a ZIP.

Plain Python, independent of Django: the export job builds an ``ExportSpec`` and an iterator of
``ExportRecord`` and calls ``write_export(format_name, zip_file, spec, records, progress=...)``.
"""

from exports.formats.errors import (
    ExportError,
    InvalidExportRecord,
    InvalidExportSpec,
    UnknownExportFormat,
    UnsuitableExportFormat,
)
from exports.formats.records import (
    IMAGE_CLASSIFICATION,
    PROJECT_TYPES,
    SPLITS,
    TEXT_CLASSIFICATION,
    Box,
    ExportRecord,
    ExportSpec,
    ExportSummary,
)
from exports.formats.registry import (
    FORMATS,
    ExportFormat,
    available_formats,
    format_named,
    formats_for,
    suitability,
    write_export,
)

__all__ = [
    "FORMATS",
    "IMAGE_CLASSIFICATION",
    "PROJECT_TYPES",
    "SPLITS",
    "TEXT_CLASSIFICATION",
    "Box",
    "ExportError",
    "ExportFormat",
    "ExportRecord",
    "ExportSpec",
    "ExportSummary",
    "InvalidExportRecord",
    "InvalidExportSpec",
    "UnknownExportFormat",
    "UnsuitableExportFormat",
    "available_formats",
    "format_named",
    "formats_for",
    "suitability",
    "write_export",
]
