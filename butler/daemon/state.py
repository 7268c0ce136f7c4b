"""The daemon's per-job records: they live in the core (`butler.jobrecords`) so that every shell reads them."""

from butler.jobrecords import DaemonState, JobRecord, JobState, job_records, now_iso, state_path

__all__ = ["DaemonState", "JobRecord", "JobState", "job_records", "now_iso", "state_path"]
