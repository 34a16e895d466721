"""Patient pages: the record (``records``) and the treatment plan (``treatment``: MVC
calibrations, protocol, progress). Thin views over the selectors, services and access policy."""
