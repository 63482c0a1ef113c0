"""Item pipeline stages, one class per stage, in the order settings.ITEM_PIPELINES runs them:
extract → language → fingerprint → match → store."""
