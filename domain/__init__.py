"""The one home of lianban's business rules: tables, services, audit, errors."""
