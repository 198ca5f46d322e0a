"""Reading and cleaning mail: the first steps of the data flow.

``ingest`` reads mailbox exports and tables into ``Message`` objects; ``cleaning`` cuts a
message down to what its author newly wrote. Nothing here knows about models.
"""
