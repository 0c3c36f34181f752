"""Every table, imported in one place so metadata (and Alembic) sees them all."""
from domain.audit.models import AuditEvent, AuditHead
from domain.cases.models import Case
from domain.escalation.models import Approval
from domain.units.models import Unit
from domain.users.models import User

__all__ = ["AuditEvent", "AuditHead", "Approval", "Case", "Unit", "User"]
