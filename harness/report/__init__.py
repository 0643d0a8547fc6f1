"""Reports: the JSON record of a run, and (later) the HTML matrix."""
