"""REST endpoints of the 附件3 benefit figures, compile jobs and compiled tables."""
