"""Acceptance policies shipped with shuzhi: one CertLogic rule set per region (see ``acceptance``)."""
