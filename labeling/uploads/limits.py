"""Every upload limit, read from settings at the start of each upload."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class UploadLimits:
    max_request_bytes: int
    max_file_bytes: int
    max_image_pixels: int
    max_text_chars: int
    max_json_bytes: int
    max_zip_entries: int
    max_zip_total_bytes: int
    max_zip_ratio: float
    zip_ratio_min_bytes: int
    report_max_rows: int
    async_items: int
    async_bytes: int
    batch_size: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            max_request_bytes=settings.UPLOAD_MAX_REQUEST_BYTES,
            max_file_bytes=settings.UPLOAD_MAX_FILE_BYTES,
            max_image_pixels=settings.UPLOAD_MAX_IMAGE_PIXELS,
            max_text_chars=settings.UPLOAD_MAX_TEXT_CHARS,
            max_json_bytes=settings.UPLOAD_MAX_JSON_BYTES,
            max_zip_entries=settings.UPLOAD_MAX_ZIP_ENTRIES,
            max_zip_total_bytes=settings.UPLOAD_MAX_ZIP_TOTAL_BYTES,
            max_zip_ratio=settings.UPLOAD_MAX_ZIP_RATIO,
            zip_ratio_min_bytes=settings.UPLOAD_ZIP_RATIO_MIN_BYTES,
            report_max_rows=settings.UPLOAD_REPORT_MAX_ROWS,
            async_items=settings.IMPORT_ASYNC_ITEMS,
            async_bytes=settings.IMPORT_ASYNC_BYTES,
            batch_size=settings.IMPORT_BATCH_SIZE,
        )
