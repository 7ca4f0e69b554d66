"""Date formats for English: times to the second, as staff compare events and
log lines (Django's own English formats drop the seconds: "Dec. 2, 2026, 10:42 a.m.").
"""

DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s"
TIME_FORMAT = "H:i:s"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
