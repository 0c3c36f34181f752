"""Every table, imported in one place so metadata (and Alembic) sees them all."""
from domain.accounts.models import LoginAttempt, WebSession
from domain.audit.models import AuditEvent, AuditHead
from domain.cases.models import Case
from domain.circulation.models import Card, Circulation, CirculationRow, FraudCard, Listing
from domain.documents.models import Document, DocumentRendition, DocumentSequence
from domain.escalation.models import Approval
from domain.orders.models import Evidence, Notice, Order
from domain.processes.models import FraudAccount, Process
from domain.units.models import Unit
from domain.users.models import User
from domain.warnings.models import FraudWarning, WarningMonth

__all__ = ["Card", "Circulation", "CirculationRow", "FraudCard", "Listing", "LoginAttempt", "WebSession", "AuditEvent", "AuditHead", "Approval", "Case", "Document", "DocumentRendition", "DocumentSequence", "Evidence", "FraudAccount", "FraudWarning", "Notice", "Order", "Process", "Unit", "User", "WarningMonth"]
