"""What people run: the command line (``cli``), the local web page (``web``) and the Spark engine
(``spark``). Thin layers over the library."""
