"""Collections of the intake service and the indexes they need."""

from __future__ import annotations

from collections.abc import Sequence

from pulse_libs.api_keys import API_KEYS_COLLECTION
from pulse_libs.audit import AUDIT_INDEXES
from pulse_libs.audit import ENTRIES as AUDIT_ENTRIES
from pymongo import ASCENDING, DESCENDING, IndexModel

USERS = "users"
API_KEYS = API_KEYS_COLLECTION
UNITS = "units"
TOPICS = "topics"
REPORTS = "reports"
ORIENTATIONS = "orientations"
SURVEYS = "surveys"
SURVEY_RESPONSES = "survey_responses"
AUDIT_LOG = AUDIT_ENTRIES
LOGIN_FAILURES = "login_failures"
AGENCIES = "agencies"
ZALO_EVENTS = "zalo_events"
MIGRATIONS = "migrations"
"""One marker document per one-time data migration that has run."""

OUTBOX_COLLECTIONS: tuple[str, ...] = (
    REPORTS,
    API_KEYS,
    UNITS,
    TOPICS,
    ORIENTATIONS,
    SURVEYS,
    SURVEY_RESPONSES,
    USERS,
    AGENCIES,
)

INDEXES: dict[str, Sequence[IndexModel]] = {
    USERS: [
        IndexModel([("username", ASCENDING)], unique=True, name="username_unique"),
        IndexModel([("zalo_user_id", ASCENDING)], name="zalo_user_id"),  # every Zalo message finds its sender
    ],
    REPORTS: [
        IndexModel([("dedupe_key", ASCENDING)], unique=True, name="dedupe_unique"),
        IndexModel([("idem_key", ASCENDING)], unique=True, name="idem_unique"),
        IndexModel([("unit_code", ASCENDING), ("_id", DESCENDING)], name="unit_newest"),
        IndexModel([("reporter_id", ASCENDING), ("_id", DESCENDING)], name="reporter_newest"),
        IndexModel([("hotspot_id", ASCENDING)], name="hotspot"),  # the projection of hot-spot changes
    ],
    SURVEY_RESPONSES: [
        IndexModel([("survey_id", ASCENDING), ("respondent_id", ASCENDING)], unique=True, name="one_per_respondent")
    ],
    ORIENTATIONS: [IndexModel([("period_end", ASCENDING)], name="period_end")],
    AUDIT_LOG: AUDIT_INDEXES[AUDIT_ENTRIES],
    LOGIN_FAILURES: [
        IndexModel([("expires_at", ASCENDING)], name="expires_at"),
        IndexModel([("keys", ASCENDING)], name="keys"),
    ],
}
