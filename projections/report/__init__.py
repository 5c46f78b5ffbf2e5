"""The accountability report (verantwoordingsrapportage) to a local council: what the region and
the municipality's own bodies decided for it in a period, gathered from the read models as known
at one ledger position (projections/report/model.py); api/report renders it."""
