"""Reading and cleaning mail: the first steps of the data flow.

``ingest`` reads mailbox exports and tables into ``Message`` objects (``message``), with the mbox
scanner in ``mbox`` (shared with the Spark reader) and RFC 822/MIME parsing and the rules for
undeclared text in ``mime``; ``cleaning`` cuts a message down to what its author newly wrote.
Nothing here knows about models.
"""
