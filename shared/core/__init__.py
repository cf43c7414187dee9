"""The small pieces every capability uses: errors, the clock, AWS clients, logs, metrics, the audit trail."""
