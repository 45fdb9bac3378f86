"""Storage: SQLAlchemy models, the repository API and Alembic migrations. Never imports the UI."""

from storage.db import StorageError
from storage.repository import InterviewBusy, InterviewSummary, NewEvent, NotFound, Repository

__all__ = ["InterviewBusy", "InterviewSummary", "NewEvent", "NotFound", "Repository", "StorageError"]
