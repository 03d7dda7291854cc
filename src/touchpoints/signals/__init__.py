"""Customer signals: the links, dedup and scope rules feedback and operational events share."""
