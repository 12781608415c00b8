"""REST endpoints of indicator sets, periods, check-marks and the review flow."""
