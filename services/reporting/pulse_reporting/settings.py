"""Settings of the reporting service (`PULSE_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


class ReportingSettings(ServiceSettings):
    """Configuration of the reporting service."""

    service_name: str = "reporting"
    port: int = Field(default=8004, ge=1, le=65535, validation_alias="PULSE_REPORTING_PORT")
    mongo_db: str = Field(default="pulse_reporting", validation_alias="PULSE_REPORTING_MONGO_DB")
    max_range_days: int = Field(default=1100, ge=1)
    """Longest statistics range one request may cover."""
    move_takeover_seconds: float = Field(default=30.0, gt=0)
    """How old an unfinished counter move must be before another process finishes it."""
    projection_lease_seconds: float = Field(default=30.0, ge=3)
    """One replica projects at a time (its counters are shared documents); a standby takes over this long after
    the holder dies (at once when it stops cleanly)."""
    consumer_group: str = "reporting-projection"

    # The briefing's document particulars (Hướng dẫn 36-HD/VPTW): who issues it, where, who signs.
    briefing_committee: str = "TỈNH ỦY YÊN BÁI"
    """The Party committee above the department, top left of the document (upper case)."""
    briefing_department: str = "BAN TUYÊN GIÁO"
    briefing_department_prose: str = "Ban Tuyên giáo Tỉnh ủy"
    """The department's name inside sentences (`… Ban Tuyên giáo Tỉnh ủy báo cáo như sau:`)."""
    briefing_symbol: str = "BC/BTG"
    """Ký hiệu: the document number reads `Số 12-BC/BTG`."""
    briefing_place: str = "Yên Bái"
    """Địa danh before the date: `Yên Bái, ngày 15 tháng 11 năm 2026`."""
    briefing_signing_for: str = "T/M BAN TUYÊN GIÁO"
    briefing_signatory_title: str = "PHÓ TRƯỞNG BAN"
    briefing_signatory_name: str = ""
    """Left empty, the signature block keeps the space for the name to be written."""
    briefing_recipients: list[str] = Field(
        default_factory=lambda: [
            "Thường trực Tỉnh ủy (để b/c)",
            "Ban Tuyên giáo Trung ương (để b/c)",
            "Các đồng chí Ủy viên Ban Thường vụ Tỉnh ủy",
            "Các ban, đơn vị của Tỉnh ủy",
            "Các đảng bộ trực thuộc",
            "Lưu Văn phòng",
        ]
    )
    briefing_template: str | None = None
    """Path of a department's own DOCX template (docxtpl/Jinja2 tags; see the README); None: the built-in form."""
